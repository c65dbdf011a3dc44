"""Reading arXiv metadata records and normalizing them into the columnar corpus.

The corpus is one parquet file with a row per record (see :data:`CORPUS_SCHEMA`); every later
stage reads it.  Input is the arXiv snapshot's JSON-lines format, plain, gzip- or zip-compressed.
Reading streams: memory stays flat however large the snapshot is.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import io
import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat import taxonomy

#: Columns of the normalized corpus.
CORPUS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("abstract", pa.string(), nullable=False),
        pa.field("categories", pa.list_(pa.string()), nullable=False),
        pa.field("primary_category", pa.string(), nullable=False),
        pa.field("submitted", pa.date32()),
        pa.field("updated", pa.date32()),
        pa.field("year", pa.int16()),
        pa.field("doi", pa.string()),
    ]
)

_NEW_STYLE_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_STYLE_ID = re.compile(r"^[a-z-]+(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}$")
_VERSION_SUFFIX = re.compile(r"v\d+$")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


class CorpusError(ValueError):
    """Bad input data, described in one line that names the file and line."""


@contextmanager
def open_text(path: str | Path) -> Iterator[IO[str]]:
    """Open a plain, ``.gz`` or ``.zip`` JSON-lines file for reading text.

    A zip archive must hold exactly one ``.json``/``.jsonl`` member (as Kaggle's download does).
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.endswith((".json", ".jsonl"))]
            if len(members) != 1:
                raise CorpusError(f"{path}: expected one .json member in the zip, found {members}")
            with archive.open(members[0]) as raw:
                yield io.TextIOWrapper(raw, encoding="utf-8")
        return
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            yield handle
    else:
        with open(path, encoding="utf-8") as handle:
            yield handle


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSON-lines file, skipping blank lines.

    Raises:
        CorpusError: For a malformed line (with file and line number) or a truncated archive.
    """
    with open_text(path) as handle:
        line_number = 0
        try:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise CorpusError(
                        f"{path}:{line_number}: malformed JSON: {error.msg}"
                    ) from None
                if not isinstance(record, dict):
                    raise CorpusError(f"{path}:{line_number}: expected a JSON object")
                yield record
        except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile, UnicodeDecodeError) as error:
            raise CorpusError(
                f"{path}: unreadable after line {line_number}: {error} (truncated download?)"
            ) from None


def _clean_text(text: str | None) -> str:
    return " ".join((text or "").split())


def _parse_date(value: str | None) -> dt.date | None:
    """Parse the snapshot's dates: RFC 2822 (versions), ISO 8601 (API form) or YYYY-MM-DD."""
    if not value:
        return None
    value = value.strip()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        pass
    # Fast path for the snapshot's "Mon, 2 Apr 2007 19:18:42 GMT" (email.utils is slow).
    parts = value.split(" ", 4)
    if len(parts) >= 4 and parts[2] in _MONTHS and parts[1].isdigit() and parts[3].isdigit():
        try:
            return dt.date(int(parts[3]), _MONTHS[parts[2]], int(parts[1]))
        except ValueError:
            pass
    try:
        return email.utils.parsedate_to_datetime(value).date()
    except (TypeError, ValueError):
        return None


def _year_from_id(paper_id: str) -> int | None:
    match = _NEW_STYLE_ID.match(paper_id) or _OLD_STYLE_ID.match(paper_id)
    if not match:
        return None
    year = int(match.group(1))
    return 2000 + year if year < 91 else 1900 + year


def normalize_record(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn one snapshot record into a corpus row.

    Whitespace in the title and abstract is collapsed, category aliases are resolved, the version
    suffix is stripped from the id, and the submission date is the first version's date (falling
    back on the year encoded in the id).

    Raises:
        KeyError/ValueError: If the record lacks an id, a title or categories.
    """
    paper_id = _VERSION_SUFFIX.sub("", str(raw["id"]).strip())
    if not paper_id:
        raise ValueError("empty id")
    categories = taxonomy.canonical_list(str(raw["categories"] or "").split())
    if not categories:
        raise ValueError(f"record {paper_id} has no categories")
    title = _clean_text(raw["title"])
    if not title:
        raise ValueError(f"record {paper_id} has no title")
    versions = raw.get("versions") or []
    submitted = _parse_date(versions[0].get("created")) if versions else None
    updated = _parse_date(raw.get("update_date"))
    year = submitted.year if submitted else _year_from_id(paper_id)
    return {
        "id": paper_id,
        "title": title,
        "abstract": _clean_text(raw.get("abstract")),
        "categories": categories,
        "primary_category": categories[0],
        "submitted": submitted,
        "updated": updated,
        "year": year,
        "doi": (raw.get("doi") or None),
    }


def normalized_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the corpus rows of a snapshot file.

    Raises:
        CorpusError: Naming file and line for a malformed or incomplete record.
    """
    for line_number, raw in enumerate(read_records(path), start=1):
        try:
            yield normalize_record(raw)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise CorpusError(f"{path}: record {line_number}: bad record: {error!r}") from None


def write_corpus(
    rows: Iterable[dict[str, Any]], output: str | Path, batch_size: int = 50_000
) -> int:
    """Write corpus rows to a parquet file, streaming in batches; return the row count.

    The file appears under its final name only once complete.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    count = 0
    try:
        with pq.ParquetWriter(partial, CORPUS_SCHEMA, compression="zstd") as writer:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= batch_size:
                    writer.write_table(pa.Table.from_pylist(batch, schema=CORPUS_SCHEMA))
                    count += len(batch)
                    batch.clear()
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=CORPUS_SCHEMA))
                count += len(batch)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return count
