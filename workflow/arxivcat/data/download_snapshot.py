"""The download stage: resolve the configured snapshot source and write the normalized corpus.

Sources (``snapshot.source`` in the config):

* ``kaggle:OWNER/DATASET``: Kaggle's dataset download API (zip), credentials from the environment;
* ``http(s)://...``: any URL serving a JSON-lines file (plain, ``.gz`` or ``.zip``);
* ``synthetic:N``: ``N`` generated records (:mod:`arxivcat.synthetic.generate`), for demos
  and tests;
* ``oai``: no snapshot; the corpus is the OAI-PMH harvest alone (rule ``harvest_oai``);
* anything else: a local path (plain, ``.gz`` or ``.zip`` JSON lines).

With a harvest table (``harvest_path``, from :mod:`arxivcat.data.harvest_oai`), harvested records
are merged into the snapshot: newer versions replace older ones, deletions remove records.

Remote files are downloaded into a cache directory (outside the rule's outputs, so an interrupted
download survives a failed job and resumes).  The corpus parquet is written deterministically:
the same input gives a byte-identical file, hence the same digest, so downstream rules that
compare the small digest file rerun nothing after re-downloading an unchanged snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from arxivcat.data.corpus import (
    CorpusError,
    normalize_record,
    normalized_records,
    normalized_tables,
)
from arxivcat.data.corpus_table import RecordChecks, write_corpus, write_tables
from arxivcat.io.atomic import write_text_atomic
from arxivcat.io.checksums import file_sha256

log = logging.getLogger(__name__)


def _synthetic_rows(count: int) -> Iterator[dict[str, Any]]:
    # Imported lazily: only synthetic sources need the generator.
    from arxivcat.synthetic.generate import generate_records

    for number, raw in enumerate(generate_records(count, seed=0), start=1):
        try:
            yield normalize_record(raw)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise CorpusError(f"synthetic record {number}: bad record: {error!r}") from None


def _synthetic_count(source: str) -> int:
    text = source.split(":", 1)[1].strip().replace("_", "")
    if not text.isdigit() or int(text) <= 0:
        raise CorpusError(f"snapshot source {source!r}: expected synthetic:N with N > 0")
    return int(text)


def resolve_source(
    source: str,
    cache_dir: str | Path,
    expected_sha256: str | None = None,
    fetch_options: dict[str, Any] | None = None,
) -> Path:
    """Return a local file holding the snapshot named by ``source``, downloading it if remote.

    Raises:
        CorpusError: For a missing local file or an unknown source form.
        arxivcat.io.fetch.FetchError: For a failed download or a checksum mismatch.
    """
    if source.startswith(("http://", "https://", "kaggle:")):
        from arxivcat.io import fetch

        return fetch.fetch_source(
            source, cache_dir, expected_sha256=expected_sha256, **(fetch_options or {})
        )
    path = Path(source).expanduser()
    if not path.is_file():
        raise CorpusError(f"snapshot source {source!r}: no such file")
    return path


def _track_rows(rows: Iterator[dict[str, Any]], latest: list[dt.date]) -> Iterator[dict[str, Any]]:
    """Pass rows through, appending the newest update (else submission) date to ``latest``."""
    newest: dt.date | None = None
    for row in rows:
        date = row["updated"] or row["submitted"]
        if date is not None and (newest is None or date > newest):
            newest = date
        yield row
    if newest is not None:
        latest.append(newest)


def _track_tables(tables: Iterator[pa.Table], latest: list[dt.date]) -> Iterator[pa.Table]:
    """:func:`_track_rows` for tables: append each table's newest date to ``latest``."""
    for table in tables:
        newest = pc.max(pc.coalesce(table["updated"], table["submitted"])).as_py()
        if newest is not None:
            latest.append(newest)
        yield table


def build_corpus(
    source: str,
    expected_sha256: str | None,
    corpus_path: str | Path,
    digest_path: str | Path,
    manifest_path: str | Path,
    cache_dir: str | Path,
    fetch_options: dict[str, Any] | None = None,
    harvest_path: str | Path | None = None,
    checks: RecordChecks | None = None,
) -> dict[str, Any]:
    """Fetch the snapshot, write the corpus parquet, its digest file and the manifest.

    Args:
        source: ``kaggle:OWNER/DATASET``, an http(s) URL, ``synthetic:N`` or a local path.
        expected_sha256: Expected sha256 of the downloaded/local file, or None to skip the check.
        corpus_path: Output parquet (schema :data:`arxivcat.data.corpus.CORPUS_SCHEMA`).
        digest_path: Output file holding only the corpus file's sha256.
        manifest_path: Output JSON manifest (source, retrieval time, records, checksums,
            snapshot date).
        cache_dir: Where remote downloads are kept (and resumed from).
        fetch_options: Extra keyword arguments for :func:`arxivcat.io.fetch.download` (retries,
            back-off, the sleep function).
        harvest_path: An OAI-PMH harvest table to merge in (required for source ``oai``).
        checks: What to do with records without abstract and with unknown categories (default:
            keep both); its counts go into the manifest as ``record_checks``.

    Returns:
        The manifest written.

    Raises:
        CorpusError: For bad input data, naming file and line.
        arxivcat.io.fetch.FetchError: For a failed download or checksum mismatch.
    """
    source = str(source).strip()
    retrieved = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    rows: Iterator[dict[str, Any]] = iter(())
    tables: Iterator[pa.Table] | None = None
    if source == "oai":
        if harvest_path is None:
            raise CorpusError("snapshot source 'oai' needs the OAI harvest (oai.enabled: true)")
        source_sha256 = file_sha256(harvest_path)
    elif source.startswith("synthetic:"):
        rows = _synthetic_rows(_synthetic_count(source))
        source_sha256 = None
    else:
        local = resolve_source(source, cache_dir, expected_sha256, fetch_options)
        log.info("hashing %s", local)
        source_sha256 = file_sha256(local)
        if expected_sha256 and source_sha256 != expected_sha256.lower():
            raise CorpusError(
                f"{local}: sha256 {source_sha256} does not match the expected {expected_sha256}"
            )
        if harvest_path is None:
            # The fast path: whole tables, no row dicts.
            tables = normalized_tables(local)
        else:
            rows = normalized_records(local)

    checks = checks or RecordChecks()
    latest: list[dt.date] = []
    log.info("normalizing %s into %s", source, corpus_path)
    if tables is not None:
        count = write_tables(_track_tables(tables, latest), corpus_path, checks)
    else:
        if harvest_path is not None:
            from arxivcat.data import harvest_oai as oai

            log.info("merging the OAI-PMH harvest %s", harvest_path)
            rows = oai.merge_harvest(rows, oai.read_harvest(harvest_path))
        count = write_corpus(_track_rows(rows, latest), corpus_path, checks=checks)
    if count == 0:
        Path(corpus_path).unlink(missing_ok=True)
        raise CorpusError(f"snapshot source {source!r}: no records")
    corpus_sha256 = file_sha256(corpus_path)
    manifest = {
        "source": source,
        "retrieved": retrieved,
        "records": count,
        "sha256": corpus_sha256,
        "source_sha256": source_sha256,
        "snapshot_date": max(latest).isoformat() if latest else None,
        "record_checks": checks.manifest(),
    }
    write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    write_text_atomic(digest_path, corpus_sha256 + "\n")
    log.info("wrote %d records to %s (sha256 %s)", count, corpus_path, corpus_sha256)
    return manifest
