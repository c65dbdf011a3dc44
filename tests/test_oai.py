"""The OAI-PMH harvester against a loopback server replaying real arXiv replies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from loopback_http import Fault, Route, Sleeps, serve

from arxivcat.config import schema_defaults
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.harvest_oai import (
    Harvester,
    OAIError,
    harvest,
    merge_harvest,
    parse_page,
    retry_policy,
)
from arxivcat.data.settings import OAISettings, SnapshotSettings

PAGES = "data/arxiv/oai/jtimdwyer-2018-06-17-arXiv"
ERRORS = "data/arxiv/oai/mikesaelim-2015-arXivRaw"


def _last_page(content: bytes) -> bytes:
    """A real page made the list's last: its token emptied, as OAI-PMH marks the end."""
    return re.sub(rb"(<resumptionToken[^>]*)>[^<]+</resumptionToken>", rb"\1/>", content)


class Replay:
    """Answers ListRecords like arXiv did in 2018: page-00, then tokens 2752941|1001, |2001, ..."""

    def __init__(self, shared: Path, pages: int = 3) -> None:
        folder = shared / PAGES
        self.pages = [(folder / f"page-{n:02d}.xml").read_bytes() for n in range(pages)]
        self.pages[-1] = _last_page(self.pages[-1])
        self.bad_token = (shared / ERRORS / "ErrorResponseBadResumptionToken.xml").read_bytes()
        self.expired: set[str] = set()

    def __call__(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        xml = {"Content-Type": "text/xml"}
        token = query.get("resumptionToken", [None])[0]
        if token is None:
            return 200, xml, self.pages[0]
        if token in self.expired:  # refused once; a restarted list gets a fresh token
            self.expired.discard(token)
            return 200, xml, self.bad_token
        number = (int(token.split("|")[1]) - 1) // 1000
        return 200, xml, self.pages[number]


def _harvest(tmp_path: Path, base: str, sleeps: Sleeps, **settings) -> dict:
    config = {**schema_defaults("oai"), "base_url": f"{base}/oai", "sets": [], **settings}
    oai = OAISettings.from_dict(config)
    retry = dataclasses.replace(retry_policy(oai), max_attempts=3)
    harvester = Harvester(oai.base_url, retry, sleep=sleeps, clock=sleeps.clock)
    return harvest(
        oai,
        output=tmp_path / "oai.parquet",
        manifest_path=tmp_path / "oai.manifest.json",
        state_dir=tmp_path / "state",
        harvester=harvester,
    )


def test_harvest_follows_resumption_tokens_at_one_request_per_interval(
    shared: Path, tmp_path: Path
):
    sleeps = Sleeps()
    with serve({"/oai": Route(responder=Replay(shared))}) as server:
        manifest = _harvest(
            tmp_path, server.base, sleeps, sets=["physics"], **{"from": "2008-01-01"}
        )
    first, second, third = (r["query"] for r in server.requests)
    assert first == {
        "verb": ["ListRecords"],
        "metadataPrefix": ["arXiv"],
        "set": ["physics"],
        "from": ["2008-01-01"],
    }
    assert second == {"verb": ["ListRecords"], "resumptionToken": ["2752941|1001"]}
    assert third["resumptionToken"] == ["2752941|2001"]
    assert sleeps == [3.0, 3.0]
    table = pq.read_table(tmp_path / "oai.parquet")
    assert table.num_rows == manifest["records"] == 3000
    assert table.column("id").to_pylist() == sorted(table.column("id").to_pylist())
    assert json.loads((tmp_path / "oai.manifest.json").read_text()) == manifest
    assert manifest["sets"] == ["physics"] and manifest["snapshot_date"] == "2018-05-01"


def test_crashed_harvest_continues_from_the_saved_token(shared: Path, tmp_path: Path):
    route = Route(responder=Replay(shared))
    with serve({"/oai": route}) as server:
        # One entry per request: two good pages, then the server keeps failing.
        route.faults = [Fault(), Fault(), *[Fault(status=500)] * 3]
        with pytest.raises(OAIError, match="giving up after 3 attempts"):
            _harvest(tmp_path, server.base, Sleeps())
        assert not (tmp_path / "oai.parquet").exists()
        done = len(server.requests)
        _harvest(tmp_path, server.base, Sleeps())
    assert server.requests[done]["query"]["resumptionToken"] == ["2752941|2001"]
    assert pq.read_table(tmp_path / "oai.parquet").num_rows == 3000


def test_503_retry_after_seconds_and_http_date(shared: Path, tmp_path: Path):
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    faults = [
        Fault(status=503, headers={"Retry-After": "45"}),
        Fault(status=503, headers={"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}),
    ]
    sleeps = Sleeps()
    with serve({"/oai": Route(responder=Replay(shared, pages=1), faults=faults)}) as server:
        manifest = _harvest(tmp_path, server.base, sleeps)
    # The waits on the server count towards the 3 s pacing: no pacing sleep on top.
    assert len(sleeps) == 2 and sleeps[0] == 45
    assert 100 < sleeps[1] <= 120
    assert manifest["records"] == 1000


def test_expired_saved_token_restarts_the_list(shared: Path, tmp_path: Path):
    replay = Replay(shared)
    with serve({"/oai": Route(responder=replay)}) as server:
        server.routes["/oai"].faults = [Fault(), *[Fault(status=500)] * 3]
        with pytest.raises(OAIError):
            _harvest(tmp_path, server.base, Sleeps())
        replay.expired.add("2752941|1001")
        first_retry = len(server.requests)
        manifest = _harvest(tmp_path, server.base, Sleeps())
    assert server.requests[first_retry]["query"]["resumptionToken"] == ["2752941|1001"]
    assert "resumptionToken" not in server.requests[first_retry + 1]["query"]
    assert manifest["records"] == 3000


def test_bad_token_mid_harvest_is_a_clear_error(shared: Path, tmp_path: Path):
    replay = Replay(shared)
    replay.expired.add("2752941|2001")
    with (
        serve({"/oai": Route(responder=replay)}) as server,
        pytest.raises(OAIError, match=r"badResumptionToken.*rerun"),
    ):
        _harvest(tmp_path, server.base, Sleeps())
    assert not (tmp_path / "oai.parquet").exists()


@pytest.mark.parametrize(
    ("name", "code"),
    [("ErrorResponseBadArgument.xml", "badArgument"), ("ErrorResponseBadVerb.xml", "badVerb")],
)
def test_oai_error_reply_is_a_clear_error(shared: Path, tmp_path: Path, name: str, code: str):
    reply = (shared / ERRORS / name).read_bytes()
    with (
        serve({"/oai": Route(responder=lambda _q: (200, {}, reply))}) as server,
        pytest.raises(OAIError, match=f"OAI-PMH error {code}: "),
    ):
        _harvest(tmp_path, server.base, Sleeps())
    assert not (tmp_path / "oai.parquet").exists()


def test_no_records_match_is_an_empty_harvest(shared: Path, tmp_path: Path):
    reply = (shared / ERRORS / "ErrorResponseNoRecordsMatch.xml").read_bytes()
    with serve({"/oai": Route(responder=lambda _q: (200, {}, reply))}) as server:
        manifest = _harvest(tmp_path, server.base, Sleeps())
    assert manifest["records"] == 0
    assert pq.read_table(tmp_path / "oai.parquet").num_rows == 0


def test_truncated_reply_is_retried(shared: Path, tmp_path: Path):
    replay = Replay(shared, pages=1)
    cut = replay.pages[0][:50_000]
    with serve({"/oai": Route(responder=replay, faults=[Fault(status=200, body=cut)])}) as server:
        manifest = _harvest(tmp_path, server.base, Sleeps())
    assert len(server.requests) == 2
    assert manifest["records"] == 1000


def test_malformed_record_among_good_ones_names_the_record(shared: Path, tmp_path: Path):
    page = (shared / ERRORS / "ListRecordsResponse.xml").read_bytes()
    broken = re.sub(rb"<categories>[^<]*</categories>", b"", page, count=1)
    broken = _last_page(broken)
    with (
        serve({"/oai": Route(responder=lambda _q: (200, {}, broken))}) as server,
        pytest.raises(OAIError, match=r"record 1: bad record oai:arXiv.org:\S+: .*categories"),
    ):
        _harvest(tmp_path, server.base, Sleeps(), metadata_prefix="arXivRaw")
    assert not (tmp_path / "oai.parquet").exists()


def test_arxivraw_version_dates_and_deletions_merge_into_the_corpus(shared: Path, tmp_path: Path):
    page = (shared / "data/arxiv/oai/arXivRaw-ListRecords-from-2016-10-20-litpuvn.xml").read_bytes()
    deletion = (
        b'<record><header status="deleted"><identifier>oai:arXiv.org:0704.0002</identifier>'
        b"<datestamp>2016-10-21</datestamp></header></record>"
    )
    page = _last_page(page).replace(b"<ListRecords>", b"<ListRecords>" + deletion, 1)
    parsed = parse_page(page, "page")
    first = parsed.rows[1]
    assert (first["id"], first["submitted"], first["updated"]) == (
        "0803.4354",
        dt.date(2008, 3, 30),
        dt.date(2016, 10, 21),
    )
    with serve({"/oai": Route(responder=lambda _q: (200, {}, page))}) as server:
        manifest = _harvest(tmp_path, server.base, Sleeps(), metadata_prefix="arXivRaw")
    assert (manifest["records"], manifest["deleted"]) == (387, 1)
    out = tmp_path / "corpus"
    sample = str(shared / "data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl")
    merged = build_corpus(
        SnapshotSettings.from_dict(
            {**schema_defaults("snapshot"), "source": sample, "sha256": None}
        ),
        corpus_path=out / "arxiv.parquet",
        digest_path=out / "arxiv.sha256",
        manifest_path=out / "arxiv.manifest.json",
        cache_dir=tmp_path / "downloads",
        harvest_path=tmp_path / "oai.parquet",
    )
    ids = pq.read_table(out / "arxiv.parquet").column("id").to_pylist()
    assert "0704.0002" not in ids and "0803.4354" in ids
    harvested = set(pq.read_table(tmp_path / "oai.parquet").column("id").to_pylist())
    snapshot_ids = {f"0704.{n:04d}" for n in range(1, 1001)}
    assert merged["records"] == len(ids) == len((snapshot_ids | harvested) - {"0704.0002"})
    oai = SnapshotSettings.from_dict(
        {**schema_defaults("snapshot"), "source": "oai", "sha256": None}
    )
    alone = build_corpus(oai, out / "o.parquet", out / "o.sha", out / "o.json", tmp_path,
                         harvest_path=tmp_path / "oai.parquet")  # fmt: skip
    assert alone["records"] == 387


def test_merge_newest_version_wins():
    old = {"id": "1", "updated": dt.date(2020, 1, 1), "title": "old"}
    keep = {"id": "2", "updated": dt.date(2024, 1, 1), "title": "newer in snapshot"}
    columns = ["abstract", "categories", "primary_category", "submitted", "year", "doi"]
    base = dict.fromkeys(columns)

    def harvested(key: str, day: dt.date, deleted: bool = False) -> dict:
        row = {**base, "id": key, "updated": day, "title": f"harvested {key}"}
        return {**row, "datestamp": day, "deleted": deleted}

    rows = [{**base, **old}, {**base, **keep}, {**base, "id": "3", "updated": None, "title": "x"}]
    table = {
        "1": harvested("1", dt.date(2021, 1, 1)),
        "2": harvested("2", dt.date(2021, 1, 1)),
        "3": harvested("3", dt.date(2021, 1, 1), deleted=True),
        "0": harvested("0", dt.date(2021, 1, 1)),
    }
    merged = list(merge_harvest(rows, table))
    assert [(r["id"], r["title"]) for r in merged] == [
        ("1", "harvested 1"),
        ("2", "newer in snapshot"),
        ("0", "harvested 0"),
    ]
