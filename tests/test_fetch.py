"""HTTP downloads against a scripted loopback server: resume, retries, checksums, Kaggle."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import logging
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from loopback_http import Fault, Route, Sleeps, serve

from arxivcat.config import schema_defaults
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.settings import SnapshotSettings
from arxivcat.io import fetch
from arxivcat.io.fetch import SNAPSHOT_RETRY, FetchError, download
from arxivcat.io.http import retry_after
from arxivcat.io.kaggle import KaggleError, kaggle_credentials

SAMPLE = "data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl"


@pytest.fixture()
def body(shared: Path) -> bytes:
    return (shared / SAMPLE).read_bytes()


def test_cut_transfer_resumes_with_a_range_request(tmp_path: Path, body: bytes):
    route = Route(body=body, headers={"ETag": '"v1"'}, faults=[Fault(cut_after=400_000)])
    sleeps = Sleeps()
    with serve({"/snap.json": route}) as server:
        path = download(f"{server.base}/snap.json", tmp_path / "snap.json", sleep=sleeps).path
    assert path.read_bytes() == body
    assert not (tmp_path / "snap.json.part").exists()
    assert "Range" not in server.requests[0]["headers"]
    resumed_from = int(server.requests[1]["headers"]["Range"].removeprefix("bytes=")[:-1])
    assert resumed_from == 400_000
    assert server.requests[1]["headers"]["If-Range"] == '"v1"'
    assert len(sleeps) == 1


def test_partial_file_from_a_failed_run_is_resumed(tmp_path: Path, body: bytes):
    route = Route(body=body, faults=[Fault(cut_after=1000)] * 8)
    with serve({"/snap.json": route}) as server:
        with pytest.raises(FetchError, match=r"giving up after 8 attempts.*kept"):
            download(f"{server.base}/snap.json", tmp_path / "snap.json", sleep=Sleeps())
        assert not (tmp_path / "snap.json").exists()
        assert (tmp_path / "snap.json.part").stat().st_size == 8000
        path = download(f"{server.base}/snap.json", tmp_path / "snap.json", sleep=Sleeps()).path
    assert path.read_bytes() == body
    assert server.requests[-1]["headers"]["Range"] == "bytes=8000-"


def test_changed_file_on_the_server_restarts_from_zero(tmp_path: Path, body: bytes):
    (tmp_path / "snap.json.part").write_bytes(b"stale bytes of an older version")
    (tmp_path / "snap.json.part.http.json").write_text('{"ETag": "\\"old\\""}')
    route = Route(body=body, headers={"ETag": '"new"'})
    with serve({"/snap.json": route}) as server:
        path = download(f"{server.base}/snap.json", tmp_path / "snap.json", sleep=Sleeps()).path
    assert path.read_bytes() == body


def test_503_with_retry_after_seconds_is_honoured(tmp_path: Path, body: bytes):
    faults = [Fault(status=503, headers={"Retry-After": "7"}), Fault(status=503)]
    sleeps = Sleeps()
    with serve({"/snap.json": Route(body=body, faults=faults)}) as server:
        retry = dataclasses.replace(SNAPSHOT_RETRY, backoff=2)
        download(f"{server.base}/snap.json", tmp_path / "snap.json", retry=retry, sleep=sleeps)
    assert sleeps == [7.0, 4.0]
    assert (tmp_path / "snap.json").read_bytes() == body


def test_retry_after_http_date():
    now = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30
    assert retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0
    assert retry_after("120") == 120
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_client_error_is_a_clear_error(tmp_path: Path):
    with (
        serve({}) as server,
        pytest.raises(FetchError, match=r"/missing.json\?sig=REDACTED: HTTP 404") as info,
    ):
        download(f"{server.base}/missing.json?sig=SECRET", tmp_path / "x", sleep=Sleeps())
    assert "SECRET" not in str(info.value)


def test_checksum_mismatch_removes_the_download(tmp_path: Path, body: bytes):
    with (
        serve({"/snap.json": Route(body=body)}) as server,
        pytest.raises(FetchError, match="does not match the expected"),
    ):
        download(f"{server.base}/snap.json", tmp_path / "s", "0" * 64, sleep=Sleeps())
    assert not (tmp_path / "s").exists()
    assert not (tmp_path / "s.part").exists()


def test_cached_file_with_matching_checksum_is_not_downloaded_again(tmp_path: Path, body: bytes):
    digest = hashlib.sha256(body).hexdigest()
    with serve({"/snap.json": Route(body=body)}) as server:
        download(f"{server.base}/snap.json", tmp_path / "s", digest, sleep=Sleeps())
        download(f"{server.base}/snap.json", tmp_path / "s", digest, sleep=Sleeps())
    assert len(server.requests) == 1


def test_unchanged_file_is_not_downloaded_again(tmp_path: Path, body: bytes):
    def responder(_query):
        return 304, {}, b""

    route = Route(body=body, headers={"ETag": '"v1"'})
    with serve({"/snap.json": route}) as server:
        download(f"{server.base}/snap.json", tmp_path / "s", sleep=Sleeps())
        route.responder = responder
        download(f"{server.base}/snap.json", tmp_path / "s", sleep=Sleeps())
    assert server.requests[1]["headers"]["If-None-Match"] == '"v1"'
    assert (tmp_path / "s").read_bytes() == body


def test_kaggle_download_with_basic_auth_and_redirect(
    tmp_path: Path, body: bytes, monkeypatch, caplog
):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("arxiv-metadata-oai-snapshot.json", body)
    zipped = archive.getvalue()
    routes = {"/signed/archive.zip": Route(body=zipped, faults=[Fault(cut_after=50_000)])}
    with serve(routes) as server:
        # A different host name, as with the real signed storage URL.
        target = (
            server.base.replace("127.0.0.1", "localhost")
            + "/signed/archive.zip?X-Goog-Signature=SIG"
        )
        routes["/api/v1/datasets/download/Cornell-University/arxiv"] = Route(
            responder=lambda _q: (302, {"Location": target}, b"")
        )
        monkeypatch.setenv("ARXIVCAT_KAGGLE_API", f"{server.base}/api/v1")
        monkeypatch.setenv("KAGGLE_USERNAME", "someone")
        monkeypatch.setenv("KAGGLE_KEY", "TOPSECRETKEY")
        sleeps = Sleeps()
        with caplog.at_level(logging.DEBUG, logger="arxivcat"):
            settings = SnapshotSettings.from_dict(
                {
                    **schema_defaults("snapshot"),
                    "source": "kaggle:Cornell-University/arxiv",
                    "sha256": hashlib.sha256(zipped).hexdigest(),
                }
            )
            manifest = build_corpus(
                settings,
                corpus_path=tmp_path / "arxiv.parquet",
                digest_path=tmp_path / "arxiv.sha256",
                manifest_path=tmp_path / "arxiv.manifest.json",
                cache_dir=tmp_path / "downloads",
                fetch_options={"sleep": sleeps},
            )
    api_request = server.requests[0]
    assert api_request["headers"]["Authorization"].startswith("Basic ")
    assert all(
        "Authorization" not in r["headers"] for r in server.requests if "signed" in r["path"]
    )
    assert any(r["headers"].get("Range") == "bytes=50000-" for r in server.requests)
    assert manifest["records"] == 1000
    assert len(sleeps) == 1
    assert pq.read_table(tmp_path / "arxiv.parquet").num_rows == 1000
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("arxivcat"))
    assert "downloading" in ours
    assert "TOPSECRETKEY" not in caplog.text
    assert "SIG" not in ours
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix != ".zip":
            assert b"TOPSECRETKEY" not in path.read_bytes(), path


def test_kaggle_without_credentials_is_a_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path))
    with pytest.raises(KaggleError, match="KAGGLE_USERNAME and KAGGLE_KEY"):
        fetch.fetch_source("kaggle:Cornell-University/arxiv", tmp_path)


def test_kaggle_json_credentials(tmp_path: Path, monkeypatch):
    (tmp_path / "kaggle.json").write_text('{"username": "u", "key": "k"}')
    env = {"KAGGLE_CONFIG_DIR": str(tmp_path)}
    assert kaggle_credentials(env) == ("u", "k")
