"""Download faults through the real workflow (issue 12): a loopback server replays the real
arXiv records and OpenAlex replies with the faults real servers show, Snakemake runs the real
rules, and every file the run wrote (under results/ and .snakemake/log/) is searched for secrets.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from loopback_http import Fault, Route, serve
from workflow_runner import snakemake

from arxivcat import layout

SAMPLE = "data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl"
SIGNATURE = "5ec7e75ec7e7f00d"
PRESIGNED = (
    "/bucket/arxiv-metadata.json?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential=AKIAFAKE%2F20260101&X-Amz-Signature={SIGNATURE}"
)

pytestmark = pytest.mark.e2e


def _written(workdir: Path) -> list[Path]:
    folders = (workdir / layout.RESULTS, workdir / ".snakemake" / "log")
    return [path for folder in folders for path in folder.rglob("*") if path.is_file()]


def _assert_nowhere(workdir: Path, *secrets: str) -> None:
    files = _written(workdir)
    assert any(path.suffix == ".log" for path in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret} in {path}"


def _run(workdir: Path, config: dict, target: str = layout.CORPUS, timeout: int = 300):
    return snakemake(workdir, "--", target, config=config, check=False, timeout=timeout)


def _lines(body: bytes, count: int) -> bytes:
    return b"".join(body.splitlines(keepends=True)[:count])


@pytest.fixture()
def body(shared: Path) -> bytes:
    return (shared / SAMPLE).read_bytes()


def test_unframed_download_cut_mid_line_is_fetched_again_by_the_next_run(tmp_path, body):
    """No Content-Length, connection closed mid-line: the run fails; the next one must not take
    the server's 304 for the broken cached file but fetch it again."""
    cut = len(_lines(body, 400)) + 100
    route = Route(
        body=body, framing="close", headers={"ETag": '"v1"'}, faults=[Fault(cut_after=cut)]
    )
    with serve({"/bucket/arxiv-metadata.json": route}) as server:
        config = {"snapshot": {"source": server.base + PRESIGNED}}
        first = _run(tmp_path, config)
        assert first.returncode != 0
        log = (tmp_path / layout.log("download_snapshot")).read_text()
        second = _run(tmp_path, config)
        assert second.returncode == 0, second.stderr[-3000:]
    assert "malformed JSON" in log and "next run fetches it again" in log
    manifest = json.loads((tmp_path / layout.CORPUS_MANIFEST).read_text())
    assert manifest["records"] == 1000
    assert "If-None-Match" not in server.requests[-1]["headers"]
    _assert_nowhere(tmp_path, SIGNATURE, "AKIAFAKE")


def test_unframed_download_cut_at_a_line_boundary_says_it_is_unverified(tmp_path, body):
    """The cut that parses cleanly: log and manifest say that completeness is unknown; the
    pre-signed URL's credentials are in no file, the manifest (which the card cites) included."""
    route = Route(body=body, framing="close", faults=[Fault(cut_after=len(_lines(body, 500)))])
    with serve({"/bucket/arxiv-metadata.json": route}) as server:
        result = _run(tmp_path, {"snapshot": {"source": server.base + PRESIGNED}})
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / layout.CORPUS_MANIFEST).read_text())
    assert manifest["records"] == 500
    assert manifest["download"]["completeness"] == "unverified"
    assert manifest["source"].endswith("X-Amz-Signature=REDACTED")
    log = (tmp_path / layout.log("download_snapshot")).read_text()
    assert "completeness is unverified" in log and "\r" not in log
    _assert_nowhere(tmp_path, SIGNATURE, "AKIAFAKE")


def test_a_day_long_retry_after_fails_the_job_at_once_with_the_servers_reason(tmp_path, body):
    fault = Fault(status=503, headers={"Retry-After": "86400"}, body=b"<Error>SlowDown</Error>")
    route = Route(body=body, faults=[fault])
    started = time.monotonic()
    with serve({"/bucket/arxiv-metadata.json": route}) as server:
        result = _run(tmp_path, {"snapshot": {"source": server.base + PRESIGNED}}, timeout=180)
    assert result.returncode != 0 and time.monotonic() - started < 120
    log = (tmp_path / layout.log("download_snapshot")).read_text()
    failure = [line for line in log.splitlines() if "job failed" in line]
    assert len(failure) == 1 and "Traceback" not in log
    assert "86400 s" in failure[0] and "SlowDown" in failure[0]
    assert "snapshot.max_retry_wait" in failure[0]
    _assert_nowhere(tmp_path, SIGNATURE, "AKIAFAKE")


def test_openalex_error_body_echoing_the_key_stays_out_of_the_log(tmp_path, shared, monkeypatch):
    key = "oa-key-9f8e7d6c"
    real = json.loads(
        (
            shared / "data/openalex/api/rkrug_openalexPro/errors/http400_invalid_filter_field.json"
        ).read_text(encoding="utf-8")
    )

    def echo(query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        # A 400 whose message repeats the request, as API gateways do.
        asked = "&".join(f"{name}={values[0]}" for name, values in query.items())
        message = f"GET /works?{asked}: {real['message'][:120]}"
        return (
            400,
            {"Content-Type": "application/json"},
            json.dumps({**real, "message": message}).encode(),
        )

    monkeypatch.setenv("OPENALEX_API_KEY", key)
    with serve({"/works": Route(responder=echo)}) as server:
        config = {"weak_negatives": {"source": "openalex", "openalex": {"base_url": server.base}}}
        result = _run(tmp_path, config, target=layout.WEAK_NEGATIVES)
    assert result.returncode != 0
    assert server.requests and server.requests[0]["query"]["api_key"] == [key]
    log = (tmp_path / layout.log("prepare_weak_negatives")).read_text()
    assert "HTTP 400" in log and "api_key=REDACTED" in log
    _assert_nowhere(tmp_path, key)


def test_synthetic_source_is_generated_by_its_own_rule_and_read_as_a_file(tmp_path):
    result = _run(tmp_path, {"snapshot": {"source": "synthetic:200"}})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "localrule generate_synthetic_snapshot:" in result.stderr
    manifest = json.loads((tmp_path / layout.CORPUS_MANIFEST).read_text())
    assert manifest["source"] == "synthetic:200" and manifest["records"] == 200
    assert "download" not in manifest
