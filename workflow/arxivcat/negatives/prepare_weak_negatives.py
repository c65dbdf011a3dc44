"""The weak-negative table: papers that are neither on arXiv nor computer science.

Two sources, chosen by ``settings.source``:

* ``"openalex"``: works fetched from the OpenAlex API (see :mod:`arxivcat.negatives.openalex_api`),
  until ``openalex.count`` rows are kept;
* a local path (a file, a directory or a glob) of JSON lines (plain or gzip, e.g. OpenAlex
  snapshot parts), JSON API response bodies, or parquet.  Rows are either plain
  ``{title, abstract, ...}`` records or OpenAlex work objects.

Whatever the source, the same rules apply (:mod:`arxivcat.negatives.filtering`): rows without a
title or an abstract are dropped, works from before ``min_year`` are dropped (rows of unknown year
are kept), OpenAlex works on arXiv or in computer science are dropped, and duplicates (same id,
same DOI key or same title key, the splits stage's keys) are dropped, the first one kept.  The
table, its sha256 digest file and a JSON manifest are written under temporary names and renamed
only when complete.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.data.jsonl import CorpusError, read_records
from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.checksums import file_sha256
from arxivcat.io.publish import utc_timestamp
from arxivcat.negatives.filtering import WeakNegativeFilter
from arxivcat.negatives.openalex_api import (
    API_KEY_VARIABLE,
    OpenAlexClient,
    PageCache,
    iter_pages,
    retry_policy,
    works_filter,
)
from arxivcat.negatives.settings import WeakNegativeSettings

log = logging.getLogger(__name__)

#: Columns of the weak-negative table.
WEAK_NEGATIVE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("abstract", pa.string(), nullable=False),
        pa.field("doi", pa.string()),
        pa.field("year", pa.int16()),
        pa.field("source", pa.string(), nullable=False),
    ]
)

_DATA_SUFFIXES = (".json", ".jsonl", ".ndjson", ".gz", ".parquet")
_BATCH = 10_000  # local records judged at once (record keys are computed per batch)


class WeakNegativeError(ArxivcatError, ValueError):
    """A weak-negative source problem, described in one line."""


def local_files(source: str | Path) -> list[Path]:
    """Return the data files a local source names: a file, a directory (recursively) or a glob.

    Raises:
        WeakNegativeError: If nothing matches.
    """
    path = Path(source)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.name.endswith(_DATA_SUFFIXES)
        )
    else:
        files = sorted(Path(p) for p in glob.glob(str(source), recursive=True) if Path(p).is_file())
    if not files:
        raise WeakNegativeError(f"weak_negatives.source: {source}: no such file or no data files")
    return files


def read_local(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the records of one local file: parquet rows or JSON-lines objects.

    A JSON object holding an API page (``{"meta", "results"}``) yields its results.

    Raises:
        WeakNegativeError: Naming the file (and line) for unreadable or malformed input.
    """
    if path.suffix == ".parquet":
        try:
            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=10_000):
                yield from batch.to_pylist()
        except (pa.ArrowException, OSError) as error:
            raise WeakNegativeError(f"{path}: unreadable parquet: {error}") from None
        return
    try:
        for record in read_records(path):
            results = record.get("results")
            if isinstance(results, list) and "meta" in record:
                yield from (r for r in results if isinstance(r, dict))
            else:
                yield record
    except CorpusError as error:
        raise WeakNegativeError(str(error)) from None


def write_table(rows: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Write weak-negative rows as parquet (under a temporary name until complete); count them."""
    rows = list(rows)
    with atomic_path(path) as partial:
        table = pa.Table.from_pylist(rows, schema=WEAK_NEGATIVE_SCHEMA)
        pq.write_table(table, partial, compression="zstd")
    return len(rows)


def write_outputs(
    rows: list[dict[str, Any]],
    table_path: str | Path,
    digest_path: str | Path,
    manifest_path: str | Path | None,
    manifest: dict[str, Any],
) -> dict[str, Any]:
    """Write the table, then its manifest, then its digest file; return the manifest."""
    count = write_table(rows, table_path)
    sha256 = file_sha256(table_path)
    manifest = {**manifest, "records": count, "sha256": sha256}
    if manifest_path is not None:
        write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    write_text_atomic(digest_path, sha256)
    return manifest


def _batches(records: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """``records`` in lists of ``size`` (the last one shorter)."""
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def collect_local(source: str | Path, min_year: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Read a local source into weak-negative rows; return them with manifest facts."""
    files = local_files(source)
    keep = WeakNegativeFilter(min_year)
    rows: list[dict[str, Any]] = []
    seen = 0
    for path in files:
        log.info("reading weak negatives from %s", path)
        for batch in _batches(read_local(path), _BATCH):
            rows.extend(row for row in keep.rows(batch) if row is not None)
            seen += len(batch)
            if seen % 200_000 == 0:
                log.info("%d records read, %d kept", seen, len(rows))
    log.info("kept %d of %d records (dropped: %s)", len(rows), seen, dict(keep.dropped) or "none")
    facts = {
        "source": str(source),
        "retrieved": utc_timestamp(),
        "source_sha256": {str(path): file_sha256(path) for path in files},
        "records_read": seen,
        "dropped": dict(keep.dropped),
        "min_year": min_year,
    }
    return rows, facts


def collect_openalex(
    settings: WeakNegativeSettings,
    cache_dir: str | Path,
    sleep: Callable[[float], None] = time.sleep,
    max_stale_pages: int = 5,
    max_pages: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Fetch weak negatives from the OpenAlex API; return the rows with manifest facts.

    Pages are read until ``count`` rows are kept, the cursor chain ends, or (sample mode)
    ``max_stale_pages`` samples in a row bring no work not seen before, i.e. the filtered
    population is smaller than ``count``: then every work there is is kept, the manifest says
    ``exhausted``.  Reading is bounded by a page budget (ten times what ``count`` needs without
    filtering); spending it is an error.

    Args:
        settings: The ``weak_negatives`` settings.
        cache_dir: Root of the page cache.
        sleep: The sleep function between retries (tests inject a fake one).
        max_stale_pages: Sample pages without new works after which the population counts as
            exhausted.
        max_pages: The page budget; None for ten times the pages ``count`` needs, plus ten.

    Raises:
        arxivcat.negatives.openalex_api.OpenAlexError: A request failed for good or no API key.
        WeakNegativeError: The page budget was spent before ``count`` rows were kept.
    """
    api = settings.openalex
    min_year = settings.min_year
    count, per_page, seed, mode = api.count, api.per_page, api.seed, api.mode
    filter_value = works_filter(list(api.concepts), min_year)
    api_key = os.environ.get(API_KEY_VARIABLE) or None
    client = OpenAlexClient(api.base_url, api_key, retry_policy(api), api.mailto, sleep)
    query = {
        "base_url": client.base_url,
        "filter": filter_value,
        "mode": mode,
        "per_page": per_page,
    }
    if mode == "sample":
        query["seed"] = seed
    cache = PageCache(cache_dir, query)
    # Filtering drops a share of each page; ten times the pages of a perfect run is plenty.
    if max_pages is None:
        max_pages = 10 * -(-count // per_page) + 10
    keep = WeakNegativeFilter(min_year)
    rows: list[dict[str, Any]] = []
    seen_ids: set[str] = set()
    pages = read = stale = 0
    stopped = "source exhausted"
    log.info("fetching %d OpenAlex weak negatives (%s mode, filter %s)", count, mode, filter_value)
    for page in iter_pages(client, cache, filter_value, mode, per_page, seed):
        pages += 1
        new = 0
        works = list(page.get("results") or ())
        judged = keep.rows(works, default_source="openalex")
        for work in works:
            if len(rows) >= count:
                break
            read += 1
            work_id = str(work.get("id"))
            new += work_id not in seen_ids
            seen_ids.add(work_id)
            row = next(judged)
            if row is not None:
                rows.append(row)
        stale = 0 if new else stale + 1
        if pages % 10 == 0:
            log.info("%d pages, %d works read, %d of %d kept", pages, read, len(rows), count)
        if len(rows) >= count:
            stopped = "count reached"
            break
        if stale >= max_stale_pages:
            stopped = f"{stale} samples in a row brought no new work"
            break
        if pages >= max_pages:
            # Not an exhausted source: the filters dropped nearly everything.  A short table
            # here would look complete, so fail (fetched pages stay cached).
            raise WeakNegativeError(
                f"weak_negatives.openalex: only {len(rows)} of {count} works kept after "
                f"{pages} pages (dropped: {dict(keep.dropped)}); check concepts and min_year"
            )
    if len(rows) < count:
        log.warning(
            "the source ran out: %d of the %d weak negatives asked for (%s)",
            len(rows),
            count,
            stopped,
        )
    log.info(
        "kept %d of %d works from %d pages (%d requests, %.4f USD; dropped: %s)",
        len(rows),
        read,
        pages,
        client.requests,
        client.cost_usd,
        dict(keep.dropped) or "none",
    )
    facts = {
        "source": "openalex",
        "retrieved": utc_timestamp(),
        "base_url": client.base_url,
        "filter": filter_value,
        "mode": mode,
        "per_page": per_page,
        "seeds": [seed, seed + pages - 1] if mode == "sample" else None,
        "requested": count,
        "exhausted": len(rows) < count,
        "stopped": stopped,
        "pages": pages,
        "requests": client.requests,
        "cost_usd": round(client.cost_usd, 6),
        "records_read": read,
        "dropped": dict(keep.dropped),
        "min_year": min_year,
    }
    return rows, facts


def prepare_weak_negatives(
    settings: WeakNegativeSettings,
    table_path: str | Path,
    digest_path: str | Path,
    cache_dir: str | Path,
    manifest_path: str | Path | None = None,
    **fetch_options: Any,
) -> dict[str, Any]:
    """Build the weak-negative table from the configured source; return its manifest.

    Args:
        settings: The ``weak_negatives`` settings.
        table_path: Where the parquet table goes.
        digest_path: Where the table's sha256 goes (one line).
        cache_dir: Where downloaded API pages are kept, so an interrupted fetch resumes.
        manifest_path: Where the JSON manifest (source, retrieval time, count, checksum) goes.
        **fetch_options: Passed to the OpenAlex fetcher (e.g. ``sleep`` for tests).

    Raises:
        WeakNegativeError: For a missing or unreadable source or no usable rows.
    """
    source = settings.source
    if source == "openalex":
        rows, facts = collect_openalex(settings, cache_dir, **fetch_options)
    else:
        rows, facts = collect_local(source, settings.min_year)
    if not rows:
        raise WeakNegativeError(
            f"weak_negatives.source: {source}: no usable weak negatives "
            f"(dropped: {facts.get('dropped') or 'none'})"
        )
    manifest = write_outputs(rows, table_path, digest_path, manifest_path, facts)
    log.info("wrote %d weak negatives to %s", manifest["records"], table_path)
    return manifest
