"""The shared HTTP layer on loopback: redaction, capped waits, completeness, progress, publish."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import json
import logging
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from loopback_http import Fault, Route, Sleeps, serve

from arxivcat.config import schema_defaults
from arxivcat.data.harvest_oai import Harvester, OAIError, harvest, retry_policy
from arxivcat.data.settings import OAISettings, SnapshotSettings
from arxivcat.io.fetch import SNAPSHOT_RETRY, FetchError, download
from arxivcat.io.progress import Progress
from arxivcat.io.publish import publish_table
from arxivcat.io.redact import redact
from arxivcat.stage_settings import SettingsError

SAMPLE = "data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl"
OAI_PAGE = "data/arxiv/oai/jtimdwyer-2018-06-17-arXiv/page-00.xml"


@pytest.fixture()
def body(shared: Path) -> bytes:
    return (shared / SAMPLE).read_bytes()


@pytest.mark.parametrize(
    ("text", "secrets", "kept"),
    [
        (
            "https://b.s3.amazonaws.com/arxiv.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAEXAMPLE%2F20240101&X-Amz-Signature=f00dcafe&X-Amz-Expires=60",
            ["AKIAEXAMPLE", "f00dcafe"],
            [
                "b.s3.amazonaws.com/arxiv.zip",
                "X-Amz-Algorithm=AWS4-HMAC-SHA256",
                "X-Amz-Expires=60",
            ],
        ),
        (
            "https://s.example/o?X-Goog-Signature=5EC&sig=AZ&token=T0K",
            ["5EC", "AZ", "T0K"],
            ["/o?"],
        ),
        ("https://me:hunter2@mirror.example/a.json", ["hunter2", "me:"], ["mirror.example/a.json"]),
        (
            "error: GET /works?filter=x&api_key=K3Y failed; apiKey=K4Y",
            ["K3Y", "K4Y"],
            ["filter=x", "failed"],
        ),
        ('{"detail": "denied", "api_key": "K5Y"}', ["K5Y"], ['"detail": "denied"']),
        ("Authorization: Basic dXNlcjprZXk=", ["dXNlcjprZXk="], ["Authorization"]),
        ("{'authorization': 'Bearer abc.def'}", ["abc.def"], ["authorization"]),
        (
            "https://oaipmh.arxiv.org/oai?verb=ListRecords&resumptionToken=2752941|1001",
            [],
            ["resumptionToken=2752941|1001"],
        ),
    ],
)
def test_redact_masks_credentials_and_keeps_the_rest(text, secrets, kept):
    shown = redact(text)
    assert all(secret not in shown for secret in secrets), shown
    assert all(part in shown for part in kept), shown
    assert redact(shown) == shown


def test_redact_masks_credential_headers():
    headers = {"Authorization": "Basic xyz", "X-Api-Key": "k", "Accept": "*/*"}
    assert redact(headers) == {
        "Authorization": "REDACTED",
        "X-Api-Key": "REDACTED",
        "Accept": "*/*",
    }


def test_download_refused_beyond_the_cap_fails_at_once_with_the_servers_reason(tmp_path, body):
    fault = Fault(status=503, headers={"Retry-After": "86400"}, body=b"Slow Down: daily quota")
    sleeps = Sleeps()
    with serve({"/snap.json": Route(body=body, faults=[fault])}) as server:
        url = f"{server.base}/snap.json?X-Amz-Signature=S3CR3T"
        with pytest.raises(FetchError) as info:
            download(url, tmp_path / "s", sleep=sleeps)
    message = str(info.value)
    assert "86400 s" in message and "HTTP 503" in message and "daily quota" in message
    assert "snapshot.max_retry_wait" in message and "S3CR3T" not in message
    assert "\n" not in message and sleeps == [] and len(server.requests) == 1


def test_backoff_never_waits_longer_than_the_cap(tmp_path, body):
    faults = [Fault(status=503)] * 4
    sleeps = Sleeps()
    with serve({"/snap.json": Route(body=body, faults=faults)}) as server:
        retry = dataclasses.replace(SNAPSHOT_RETRY, backoff=5, max_retry_wait=12)
        download(f"{server.base}/snap.json", tmp_path / "s", retry=retry, sleep=sleeps)
    assert sleeps == [5, 10, 12, 12]


def test_oai_refusal_beyond_the_cap_fails_with_the_reason(shared, tmp_path):
    page = (shared / OAI_PAGE).read_bytes()
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=5)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    fault = Fault(status=503, headers={"Retry-After": when}, body=b"Retry after maintenance")
    sleeps = Sleeps()
    with serve({"/oai": Route(responder=lambda _q: (200, {}, page), faults=[fault])}) as server:
        config = {**schema_defaults("oai"), "base_url": f"{server.base}/oai", "max_retry_wait": 60}
        settings = OAISettings.from_dict(config)
        harvester = Harvester(settings.base_url, retry_policy(settings), sleep=sleeps)
        with pytest.raises(
            OAIError, match=r"refuses for (1799\d|18000) s .*maintenance.*oai\.max_retry_wait"
        ):
            harvest(
                settings, tmp_path / "h.parquet", tmp_path / "h.json", tmp_path / "st", harvester
            )
    assert sleeps == [] and not (tmp_path / "h.parquet").exists()


def test_cut_chunked_transfer_is_retried_and_its_end_is_the_proof(tmp_path, body):
    route = Route(body=body, framing="chunked", ranges=False, faults=[Fault(cut_after=300_000)])
    with serve({"/snap.json": route}) as server:
        result = download(f"{server.base}/snap.json", tmp_path / "s", sleep=Sleeps())
    assert result.path.read_bytes() == body
    assert result.completeness == "chunked" and len(server.requests) == 2


def test_unframed_gzip_cut_is_retried_and_a_whole_gzip_counts_as_complete(tmp_path, body):
    packed = gzip.compress(body, mtime=0)
    route = Route(body=packed, framing="close", ranges=False, faults=[Fault(cut_after=40_000)])
    with serve({"/snap.json.gz": route}) as server:
        result = download(f"{server.base}/snap.json.gz", tmp_path / "s.gz", sleep=Sleeps())
    assert result.path.read_bytes() == packed
    assert result.completeness == "gzip" and len(server.requests) == 2


def test_unframed_plain_download_is_reported_unverified(tmp_path, body, caplog):
    with (
        serve({"/snap.json": Route(body=body, framing="close")}) as server,
        caplog.at_level(logging.WARNING, logger="arxivcat"),
    ):
        result = download(f"{server.base}/snap.json", tmp_path / "s", sleep=Sleeps())
    assert result.facts()["completeness"] == "unverified"
    assert "completeness is unverified" in caplog.text


def test_progress_lines_give_percent_rate_and_eta(tmp_path, body, caplog):
    with (
        serve({"/a": Route(body=body), "/b": Route(body=body, framing="close")}) as server,
        caplog.at_level(logging.INFO, logger="arxivcat"),
    ):
        download(f"{server.base}/a", tmp_path / "a", sleep=Sleeps(), progress_every=0)
        download(f"{server.base}/b", tmp_path / "b", sleep=Sleeps(), progress_every=0)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("downloading ")]
    known = [line for line in lines if line.startswith("downloading a:")]
    unknown = [line for line in lines if line.startswith("downloading b:")]
    assert known and unknown
    assert all("% (" in line and "/s, elapsed " in line and ", ETA " in line for line in known)
    assert known[-1].startswith("downloading a: 100.0% (")
    assert all(" so far, " in line and "/s" in line for line in unknown), unknown[:3]
    assert not any("\r" in line for line in lines)


def test_progress_is_rate_limited():
    now = [0.0]
    lines: list[str] = []

    class Sink(logging.Logger):
        def info(self, message, *args, **kwargs):
            lines.append(message % args)

    progress = Progress(Sink("x"), "work", total=1000, every=30, clock=lambda: now[0])
    for _ in range(100):
        now[0] += 1
        progress.advance(5)
    assert len(lines) == 3  # at 30, 60 and 90 s
    assert lines[0] == "work: 15.0% (150 B of 1.0 KB), 5 B/s, elapsed 0:00:30, ETA 0:02:50"


def test_publish_table_writes_table_manifest_and_digest_or_nothing(tmp_path):
    table = pa.table({"id": ["a", "b"]})
    paths = tmp_path / "t.parquet", tmp_path / "t.sha256", tmp_path / "t.json"
    manifest = publish_table(table, *paths, {"source": "x"})
    assert pq.read_table(paths[0]).equals(table)
    assert json.loads(paths[2].read_text()) == manifest and manifest["source"] == "x"
    assert paths[1].read_text() == manifest["sha256"] + "\n"

    def broken(partial: Path) -> dict:
        partial.write_bytes(b"half")
        raise RuntimeError("disk full")

    others = tmp_path / "u.parquet", tmp_path / "u.sha256", tmp_path / "u.json"
    with pytest.raises(RuntimeError):
        publish_table(broken, *others, {})
    assert not any(path.exists() for path in others) and list(tmp_path.glob("u*")) == []


def test_settings_are_strict_about_keys():
    values = {**schema_defaults("snapshot"), "source": "synthetic:10", "max_retry_wait": 5}
    assert SnapshotSettings.from_dict(values).to_dict() == values
    with pytest.raises(SettingsError, match=r"snapshot\.extra: unknown"):
        SnapshotSettings.from_dict({**values, "extra": 1})
    with pytest.raises(SettingsError, match=r"oai\.from: missing"):
        OAISettings.from_dict({k: v for k, v in schema_defaults("oai").items() if k != "from"})
    assert OAISettings.from_dict(schema_defaults("oai")).to_dict()["from"] is None


def test_pacing_spaces_requests(shared, tmp_path):
    page = (shared / OAI_PAGE).read_bytes()
    with serve({"/oai": Route(responder=lambda _q: (200, {}, page))}) as server:
        settings = OAISettings.from_dict({**schema_defaults("oai"), "interval": 0.3})
        harvester = Harvester(f"{server.base}/oai", retry_policy(settings))
        started = time.monotonic()
        harvester.list_records({"metadataPrefix": "arXiv"})
        harvester.list_records({"resumptionToken": "x"})
    assert time.monotonic() - started >= 0.3
