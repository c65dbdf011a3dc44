"""The weak-negative table: papers that are neither on arXiv nor computer science.

Two sources, chosen by ``settings.source``:

* ``"openalex"``: works fetched from the OpenAlex API until ``openalex.count`` rows are kept
  (:mod:`arxivcat.negatives.openalex_source`);
* a local path (a file, a directory or a glob: :func:`arxivcat.io.sources.source_files`) of JSON
  lines (plain or gzip, e.g. OpenAlex snapshot parts), JSON API response bodies, or parquet.
  Rows are either plain ``{title, abstract, ...}`` records or OpenAlex work objects.

Whatever the source, the same rules apply (:mod:`arxivcat.negatives.filtering`): rows without a
title or an abstract are dropped, works from before ``min_year`` are dropped (rows of unknown year
are kept), OpenAlex works on arXiv or in computer science are dropped, and duplicates (same id,
same DOI key or same title key, the splits stage's keys) are dropped, the first one kept.  The
table, its sha256 digest file and a JSON manifest are written under temporary names and renamed
only when complete.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.data.jsonl import CorpusError, read_records
from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.checksums import file_sha256
from arxivcat.io.publish import utc_timestamp
from arxivcat.io.sources import source_files
from arxivcat.negatives.filtering import WeakNegativeError, WeakNegativeFilter
from arxivcat.negatives.openalex_source import collect_openalex
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


def read_local(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the records of one local file: parquet rows or JSON-lines objects.

    A JSON object holding an API page (``{"meta", "results"}``) yields its results.

    Raises:
        WeakNegativeError: Naming the file (and line) for unreadable or malformed input.
    """
    if path.name.lower().endswith(".parquet"):
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
    setting = "weak_negatives.source"
    files = source_files(source, _DATA_SUFFIXES, error=WeakNegativeError, setting=setting)
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
