"""Harvesting arXiv metadata over OAI-PMH, resumable, polite, and merged into the corpus.

``ListRecords`` pages (``metadataPrefix`` ``arXiv`` or ``arXivRaw``, optional set and
``from``/``until`` datestamps) are fetched through :class:`arxivcat.io.http.HttpClient`: one
request per ``interval`` seconds (arXiv asks for 3 s), 503 replies retried after their
``Retry-After`` (delay seconds or an HTTP date, at most ``oai.max_retry_wait``), and OAI
``<error>`` replies become one-line :class:`OAIError` messages (``noRecordsMatch`` is simply an
empty harvest).  Each page's normalized records are saved to the state directory before the
resumption token is persisted, so a crashed harvest continues with the next page; a persisted
token the server no longer accepts (they expire) restarts that list from the beginning.

The harvest table has the corpus columns plus ``datestamp`` (the record's last modification) and
``deleted`` (``<header status="deleted">``); :func:`merge_harvest` applies it to a corpus: a
harvested record replaces an older one, a deletion removes it, new records are added.

Why not a client library: sickle is unmaintained, and its maintained fork oaipmh-scythe (0.16)
parses ``Retry-After`` with ``int()`` (an HTTP date crashes it), does not pace requests, and does
not persist resumption tokens, while adding httpx2 and lxml as dependencies.  Those three are
what this module is for; the protocol part (a GET and an XML page walk) is small.  Pages are
parsed by :mod:`arxivcat.data.oai_pages`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from arxivcat.data import corpus
from arxivcat.data.oai_pages import HARVEST_SCHEMA, IncompleteReplyError, OAIError, Page, parse_page
from arxivcat.data.settings import OAISettings
from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.http import HttpClient, Retry, RetryPolicy, describe, shown_url
from arxivcat.io.publish import publish_table, utc_timestamp
from arxivcat.io.redact import redact

log = logging.getLogger(__name__)


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()}


def _from_json(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("submitted", "updated", "datestamp"):
        if row.get(key):
            row[key] = dt.date.fromisoformat(row[key])
    return row


def retry_policy(settings: OAISettings) -> RetryPolicy:
    """The harvest's retries: ``oai.interval`` between requests (and as the first back-off)."""
    return RetryPolicy(
        max_attempts=6,
        backoff=max(settings.interval, 1.0),
        max_retry_wait=settings.max_retry_wait,
        timeout=120.0,
        interval=settings.interval,
        setting="oai.max_retry_wait",
    )


class Harvester:
    """A polite OAI-PMH client: paced requests, capped Retry-After, retries on cut replies.

    Args:
        base_url: The OAI-PMH endpoint.
        retry: Pacing, attempts, back-off and the longest wait on the server
            (:func:`retry_policy`).
        session: The ``requests`` session.
        sleep: The sleep function; ``clock`` the monotonic clock (tests inject fakes).
    """

    def __init__(
        self,
        base_url: str,
        retry: RetryPolicy,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url
        self.client = HttpClient(session, retry, error=OAIError, sleep=sleep, clock=clock)

    def list_records(self, params: dict[str, str]) -> Page:
        """Fetch and parse one ``ListRecords`` page (retrying transient failures)."""
        query = {"verb": "ListRecords", **params}
        where = shown_url(self.base_url, query)

        def read(response: requests.Response) -> Page:
            # OAI-PMH error replies may come with a 4xx status; their <error> says more.
            if response.status_code >= 400 and b"<error" not in response.content:
                raise OAIError(f"{where}: {describe(response)}")
            try:
                return parse_page(response.content, where)
            except IncompleteReplyError as error:
                raise Retry(str(error)) from None

        return self.client.get(self.base_url, read, params=query)


def _state_key(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]


def harvest_list(harvester: Harvester, params: dict[str, str], state_dir: str | Path) -> list[Path]:
    """Harvest every page of one list into ``state_dir``; return the page files in order.

    Progress survives a crash: each page's rows are written before the next token is persisted.
    A completed list is harvested afresh next time (the repository may have changed).
    """
    state_dir = Path(state_dir) / _state_key(params)
    state_path = state_dir / "state.json"
    state: dict[str, Any] = {}
    if state_path.is_file():
        state = json.loads(state_path.read_text(encoding="utf-8"))
    if not state or state.get("done") or state.get("params") != params:
        shutil.rmtree(state_dir, ignore_errors=True)
        state = {"params": params, "pages": 0, "token": None, "done": False}
    state_dir.mkdir(parents=True, exist_ok=True)
    resumed = state["token"] is not None
    if resumed:
        log.info("resuming the harvest of %s after %d pages", params, state["pages"])
    while True:
        request = {"resumptionToken": state["token"]} if state["token"] else dict(params)
        try:
            page = harvester.list_records(request)
        except OAIError as error:
            if error.code == "noRecordsMatch" and not state["token"]:
                page = Page()
            elif error.code == "badResumptionToken" and resumed:
                log.warning("the saved resumption token expired; restarting %s", params)
                shutil.rmtree(state_dir, ignore_errors=True)
                state_dir.mkdir(parents=True)
                state = {"params": params, "pages": 0, "token": None, "done": False}
                resumed = False
                continue
            else:
                if error.code == "badResumptionToken":
                    raise OAIError(
                        f"{error} (the resumption token expired mid-harvest; rerun to continue "
                        "from the last saved page, or to restart)",
                        code=error.code,
                    ) from None
                raise
        resumed = False
        page_file = state_dir / f"page-{state['pages']:06d}.jsonl.gz"
        with atomic_path(page_file) as partial, gzip.open(partial, "wt", encoding="utf-8") as out:
            for row in page.rows:
                out.write(json.dumps(_jsonable(row)) + "\n")
        state["pages"] += 1
        state["token"] = page.token
        state["done"] = page.token is None
        write_text_atomic(state_path, json.dumps(state, sort_keys=True))
        log.info(
            "%s: page %d, %d records (list size %s)",
            params, state["pages"], len(page.rows), page.complete_list_size,
        )  # fmt: skip
        if page.token is None:
            return [state_dir / f"page-{n:06d}.jsonl.gz" for n in range(state["pages"])]


def _page_rows(files: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                yield _from_json(json.loads(line))


def latest_rows(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the newest row per id (latest datestamp; later wins a tie), sorted by id."""
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        current = newest.get(row["id"])
        if current is None or row["datestamp"] >= current["datestamp"]:
            newest[row["id"]] = row
    return [newest[key] for key in sorted(newest)]


def harvest(
    settings: OAISettings,
    output: str | Path,
    manifest_path: str | Path,
    state_dir: str | Path,
    harvester: Harvester | None = None,
) -> dict[str, Any]:
    """Harvest the configured sets and write the harvest table and its manifest.

    Args:
        settings: The ``oai`` settings.
        output: The harvest parquet (:data:`HARVEST_SCHEMA`, sorted by id, deterministic).
        manifest_path: JSON manifest: source, harvest parameters, retrieval time, counts, sha256.
        state_dir: Where pages and resumption tokens are kept between runs.
        harvester: The client (tests pass one with a fake sleep).

    Returns:
        The manifest written.
    """
    harvester = harvester or Harvester(settings.base_url, retry_policy(settings))
    retrieved = utc_timestamp()
    files: list[Path] = []
    for set_spec in settings.sets or [None]:
        params = {"metadataPrefix": settings.metadata_prefix}
        params.update({key: value for key, value in (("from", settings.from_),
                       ("until", settings.until)) if value})  # fmt: skip
        if set_spec:
            params["set"] = set_spec
        files += harvest_list(harvester, params, state_dir)
    rows = latest_rows(_page_rows(files))
    datestamps = [row["datestamp"] for row in rows]
    manifest = publish_table(
        pa.Table.from_pylist(rows, schema=HARVEST_SCHEMA),
        output,
        None,
        manifest_path,
        {
            "source": f"oai:{redact(settings.base_url)}",
            "metadata_prefix": settings.metadata_prefix,
            "sets": list(settings.sets),
            "from": settings.from_,
            "until": settings.until,
            "retrieved": retrieved,
            "records": sum(not row["deleted"] for row in rows),
            "deleted": sum(row["deleted"] for row in rows),
            "snapshot_date": max(datestamps).isoformat() if datestamps else None,
        },
    )
    log.info("harvested %d records, %d deletions", manifest["records"], manifest["deleted"])
    return manifest


def read_harvest(path: str | Path) -> dict[str, dict[str, Any]]:
    """Load a harvest table as {id: row}."""
    table = pq.read_table(path)
    return {row["id"]: row for row in table.to_pylist()}


def merge_harvest(
    rows: Iterable[dict[str, Any]], harvested: dict[str, dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """Apply harvested records to corpus rows, streaming.

    A harvested record replaces a corpus row unless the row's ``updated`` date is newer than
    the harvest's datestamp; a deletion drops the row; harvested ids not in the corpus are
    appended in id order.  ``harvested`` is consumed.
    """
    for row in rows:
        newer = harvested.pop(row["id"], None)
        if newer is None:
            yield row
            continue
        if row["updated"] is not None and row["updated"] > newer["datestamp"]:
            yield row
        elif not newer["deleted"]:
            yield _corpus_row(newer)
    for key in sorted(harvested):
        if not harvested[key]["deleted"]:
            yield _corpus_row(harvested[key])


def _corpus_row(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in corpus.CORPUS_SCHEMA.names}
