"""The download stage: resolve the configured snapshot source and write the normalized corpus.

Sources (``snapshot.source`` in the config):

* ``kaggle:OWNER/DATASET``: Kaggle's dataset download API (zip), credentials from the environment;
* ``http(s)://...``: any URL serving a JSON-lines file (plain, ``.gz`` or ``.zip``);
* ``synthetic:N``: ``N`` generated records for demos and tests, read from the file that the rule
  ``generate_synthetic_snapshot`` wrote (``snapshot_path``; the generator is not this stage's
  code);
* ``oai``: no snapshot; the corpus is the OAI-PMH harvest alone (rule ``harvest_oai``);
* anything else: a local path (plain, ``.gz`` or ``.zip`` JSON lines).

With a harvest table (``harvest_path``, from :mod:`arxivcat.data.harvest_oai`), harvested records
are merged into the snapshot: newer versions replace older ones, deletions remove records.

Remote files are downloaded into a cache directory (outside the rule's outputs, so an interrupted
download survives a failed job and resumes); the manifest records the redacted URL and how the
download's completeness was established, and a cached download that fails to parse is removed
so that the next run fetches it again.  The corpus parquet is written deterministically:
the same input gives a byte-identical file, hence the same digest, so downstream rules that
compare the small digest file rerun nothing after re-downloading an unchanged snapshot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from arxivcat.data.corpus import CorpusError, normalized_records, normalized_tables
from arxivcat.data.corpus_table import RecordChecks, write_corpus, write_tables
from arxivcat.data.settings import SnapshotSettings
from arxivcat.io.checksums import file_sha256
from arxivcat.io.publish import publish_table, utc_timestamp
from arxivcat.io.redact import redact

if TYPE_CHECKING:
    from arxivcat.io.fetch import Download

log = logging.getLogger(__name__)


def resolve_source(
    settings: SnapshotSettings, cache_dir: str | Path, fetch_options: dict[str, Any] | None = None
) -> tuple[Path, Download | None]:
    """Return a local file holding the snapshot, downloading it if remote, and the download.

    Raises:
        CorpusError: For a missing local file.
        arxivcat.io.fetch.FetchError: For a failed download or a checksum mismatch.
    """
    source = settings.source
    if source.startswith(("http://", "https://", "kaggle:")):
        from arxivcat.io import fetch

        retry = dataclasses.replace(fetch.SNAPSHOT_RETRY, max_retry_wait=settings.max_retry_wait)
        options = fetch_options or {}
        download = fetch.fetch_source(source, cache_dir, settings.sha256, retry=retry, **options)
        return download.path, download
    path = Path(source).expanduser()
    if not path.is_file():
        raise CorpusError(f"snapshot source {source!r}: no such file")
    return path, None


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


@dataclasses.dataclass(frozen=True)
class _Snapshot:
    """The local input of a corpus.

    Attributes:
        local: The snapshot file (downloaded, generated or local); None for the harvest alone.
        download: The download that brought ``local``, for a remote source.
        sha256: The sha256 of ``local``, or of the harvest table when there is no snapshot.
    """

    local: Path | None
    download: Download | None
    sha256: str


def _local_snapshot(
    settings: SnapshotSettings,
    cache_dir: str | Path,
    fetch_options: dict[str, Any] | None,
    harvest_path: str | Path | None,
    snapshot_path: str | Path | None,
) -> _Snapshot:
    """The snapshot file of the configured source (downloaded if remote), hashed and checked."""
    source = settings.source.strip()
    if source == "oai":
        if harvest_path is None:
            raise CorpusError("snapshot source 'oai' needs the OAI harvest (oai.enabled: true)")
        return _Snapshot(None, None, file_sha256(harvest_path))
    download: Download | None = None
    if source.startswith("synthetic:"):
        if snapshot_path is None:
            raise CorpusError(
                f"snapshot source {source!r} needs the file of rule generate_synthetic_snapshot"
            )
        local = Path(snapshot_path)
    else:
        local, download = resolve_source(settings, cache_dir, fetch_options)
    log.info("hashing %s", local)
    sha256 = file_sha256(local)
    if settings.sha256 and sha256 != settings.sha256.lower():
        raise CorpusError(f"{local}: sha256 {sha256} does not match the expected {settings.sha256}")
    return _Snapshot(local, download, sha256)


def _write_corpus(
    partial: Path,
    local: Path | None,
    harvest_path: str | Path | None,
    checks: RecordChecks,
    source: str,
) -> dict[str, Any]:
    """Normalize ``local`` (merged with the harvest, if any) into ``partial``; return its facts."""
    latest: list[dt.date] = []
    if harvest_path is None:
        # The fast path: whole tables, no row dicts.
        count = write_tables(_track_tables(normalized_tables(local), latest), partial, checks)
    else:
        from arxivcat.data import harvest_oai as oai

        log.info("merging the OAI-PMH harvest %s", harvest_path)
        rows = normalized_records(local) if local is not None else iter(())
        merged = oai.merge_harvest(rows, oai.read_harvest(harvest_path))
        count = write_corpus(_track_rows(merged, latest), partial, checks=checks)
    if count == 0:
        raise CorpusError(f"snapshot source {redact(source)!r}: no records")
    return {
        "records": count,
        "snapshot_date": max(latest).isoformat() if latest else None,
        "record_checks": checks.manifest(),
    }


def build_corpus(
    settings: SnapshotSettings,
    corpus_path: str | Path,
    digest_path: str | Path,
    manifest_path: str | Path,
    cache_dir: str | Path,
    fetch_options: dict[str, Any] | None = None,
    harvest_path: str | Path | None = None,
    snapshot_path: str | Path | None = None,
) -> dict[str, Any]:
    """Fetch the snapshot, write the corpus parquet, its digest file and the manifest.

    Args:
        settings: The ``snapshot`` settings: source, expected sha256, longest server wait.
        corpus_path: Output parquet (schema :data:`arxivcat.data.corpus.CORPUS_SCHEMA`).
        digest_path: Output file holding only the corpus file's sha256.
        manifest_path: Output JSON manifest (source, retrieval time, records, checksums,
            snapshot date and, for a download, its redacted URL and completeness).
        cache_dir: Where remote downloads are kept (and resumed from).
        fetch_options: Extra keyword arguments for :func:`arxivcat.io.fetch.download` (the
            sleep function, for tests).
        harvest_path: An OAI-PMH harvest table to merge in (required for source ``oai``).
        snapshot_path: The generated file of a ``synthetic:N`` source.

    Returns:
        The manifest written.

    Raises:
        CorpusError: For bad input data, naming file and line.
        arxivcat.io.fetch.FetchError: For a failed download or checksum mismatch.
    """
    source = settings.source.strip()
    retrieved = utc_timestamp()
    snapshot = _local_snapshot(settings, cache_dir, fetch_options, harvest_path, snapshot_path)
    checks = RecordChecks(settings.missing_abstract, settings.unknown_categories)
    write = functools.partial(
        _write_corpus, local=snapshot.local, harvest_path=harvest_path, checks=checks, source=source
    )
    log.info("normalizing %s into %s", redact(source), corpus_path)
    facts: dict[str, Any] = {"source": redact(source), "retrieved": retrieved}
    if snapshot.download is not None:
        facts["download"] = snapshot.download.facts()
    try:
        manifest = publish_table(
            write,
            corpus_path,
            digest_path,
            manifest_path,
            {**facts, "source_sha256": snapshot.sha256},
        )
    except CorpusError as error:
        if snapshot.download is None:
            raise
        from arxivcat.io import fetch

        fetch.discard(snapshot.download)
        raise CorpusError(
            f"{error} (the cached download was removed: the next run fetches it again)"
        ) from None
    log.info(
        "wrote %d records to %s (sha256 %s)", manifest["records"], corpus_path, manifest["sha256"]
    )
    return manifest
