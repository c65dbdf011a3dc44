"""Reading arXiv metadata records and normalizing them into the columnar corpus.

The corpus is one parquet file with a row per record (see :data:`CORPUS_SCHEMA`); every later
stage reads it.  Input is the arXiv snapshot's JSON-lines format, plain, gzip- or zip-compressed.
Reading streams: memory stays flat however large the snapshot is.

Ingest is fast (issue 3: over 50,000 records/s on one core, ``benchmarks/ingest.py``): lines are
decoded with msgspec straight into the few fields the corpus needs, category lists and dates are
memoized, and batches become Arrow tables column by column (:func:`normalized_tables`).  Any line
that does not fit the usual shape goes through the plain ``json`` + :func:`normalize_record`
path, so rows and error messages are the same either way.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat import taxonomy
from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path

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
_READ_BUFFER = 1 << 20
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


#: Bound on the memo tables below (distinct category strings and dates), so memory stays flat.
_MEMO_LIMIT = 1 << 16
_CATEGORY_MEMO: dict[str, tuple[str, ...]] = {}
_DATE_MEMO: dict[str, dt.date | None] = {}
_RFC_DATE_MEMO: dict[tuple[str, str, str], dt.date] = {}


class CorpusError(ArxivcatError, ValueError):
    """Bad input data, described in one line that names the file and line."""


@contextmanager
def open_binary(path: str | Path) -> Iterator[IO[bytes]]:
    """Open a plain, ``.gz`` or ``.zip`` JSON-lines file for reading bytes.

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
                yield raw
        return
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        with gzip.open(path, "rb") as handle:
            yield handle
    else:
        with open(path, "rb", buffering=_READ_BUFFER) as handle:
            yield handle


@contextmanager
def open_text(path: str | Path) -> Iterator[IO[str]]:
    """Open a plain, ``.gz`` or ``.zip`` JSON-lines file for reading UTF-8 text."""
    with open_binary(path) as raw:
        yield io.TextIOWrapper(raw, encoding="utf-8")


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


def _collapse(text: str) -> str:
    """``" ".join(text.split())``, faster for the usual ASCII text wrapped with newlines.

    When the ASCII text, newlines made spaces and outer spaces stripped, has no double space and
    no other whitespace character (``str.split``'s ASCII whitespace), it is already the result.
    """
    if type(text) is str and text.isascii():
        flat = text.replace("\n", " ").strip(" ")
        if (
            "  " not in flat
            and "\t" not in flat
            and "\r" not in flat
            and "\x0b" not in flat
            and "\x0c" not in flat
            and "\x1c" not in flat
            and "\x1d" not in flat
            and "\x1e" not in flat
            and "\x1f" not in flat
        ):
            return flat
    return " ".join(text.split())


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


def _memo_date(value: str | None) -> dt.date | None:
    """:func:`_parse_date`, memoized per string (update dates repeat: one per day)."""
    try:
        return _DATE_MEMO[value]  # type: ignore[index]
    except (KeyError, TypeError):
        pass
    date = _parse_date(value)
    if isinstance(value, str) and len(_DATE_MEMO) < _MEMO_LIMIT:
        _DATE_MEMO[value] = date
    return date


def _version_date(value: str | None) -> dt.date | None:
    """:func:`_parse_date` for version dates, memoized per day of the RFC 2822 form.

    A value starting with a letter is never ISO, so :func:`_parse_date` takes its RFC 2822 fast
    path, which reads only the day, month and year fields: this does the same, memoized.
    """
    if type(value) is str and value[:1].isalpha():
        parts = value.split(" ", 4)
        if len(parts) >= 4:
            key = (parts[1], parts[2], parts[3])
            date = _RFC_DATE_MEMO.get(key)
            if date is not None:
                return date
            if parts[2] in _MONTHS and parts[1].isdigit() and parts[3].isdigit():
                try:
                    date = dt.date(int(parts[3]), _MONTHS[parts[2]], int(parts[1]))
                except ValueError:
                    date = None
                if date is not None:
                    if len(_RFC_DATE_MEMO) < _MEMO_LIMIT:
                        _RFC_DATE_MEMO[key] = date
                    return date
    return _parse_date(value)


def _categories(text: str) -> list[str]:
    """Canonical category list of a space-separated string, memoized (strings repeat a lot)."""
    cached = _CATEGORY_MEMO.get(text)
    if cached is None:
        cached = tuple(taxonomy.canonical_list(text.split()))
        if len(_CATEGORY_MEMO) < _MEMO_LIMIT:
            _CATEGORY_MEMO[text] = cached
    return list(cached)


def _year_from_id(paper_id: str) -> int | None:
    match = _NEW_STYLE_ID.match(paper_id) or _OLD_STYLE_ID.match(paper_id)
    if not match:
        return None
    year = int(match.group(1))
    return 2000 + year if year < 91 else 1900 + year


def _clean_id(paper_id: str) -> str:
    paper_id = paper_id.strip()
    if "v" in paper_id:
        paper_id = _VERSION_SUFFIX.sub("", paper_id)
    if not paper_id:
        raise ValueError("empty id")
    return paper_id


def _category_list(categories: str, paper_id: str) -> list[str]:
    category_list = _categories(categories)
    if not category_list:
        raise ValueError(f"record {paper_id} has no categories")
    return category_list


def _clean_title(title: Any, paper_id: str) -> str:
    title = _collapse(title) if title else ""
    if not title:
        raise ValueError(f"record {paper_id} has no title")
    return title


_FIELD_NAMES = tuple(CORPUS_SCHEMA.names)


def _fields(
    paper_id: str,
    title: str,
    categories: list[str],
    submitted: dt.date | None,
    update_date: Any,
    abstract: Any,
    doi: Any,
) -> tuple[Any, ...]:
    """A corpus row's values in schema order, from checked fields (in validation order)."""
    updated = _memo_date(update_date)
    return (
        paper_id,
        title,
        _collapse(abstract) if abstract else "",
        categories,
        categories[0],
        submitted,
        updated,
        submitted.year if submitted else _year_from_id(paper_id),
        doi or None,
    )


def _record_fields(raw: dict[str, Any]) -> tuple[Any, ...]:
    """:func:`normalize_record`'s values in schema order."""
    paper_id = _clean_id(str(raw["id"]))
    categories = _category_list(str(raw["categories"] or ""), paper_id)
    title = _clean_title(raw["title"], paper_id)
    versions = raw.get("versions") or []
    submitted = _version_date(versions[0].get("created")) if versions else None
    return _fields(
        paper_id,
        title,
        categories,
        submitted,
        raw.get("update_date"),
        raw.get("abstract"),
        raw.get("doi"),
    )


def normalize_record(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn one snapshot record into a corpus row.

    Whitespace in the title and abstract is collapsed, category aliases are resolved, the version
    suffix is stripped from the id, and the submission date is the first version's date (falling
    back on the year encoded in the id).

    Raises:
        KeyError/ValueError: If the record lacks an id, a title or categories.
    """
    return dict(zip(_FIELD_NAMES, _record_fields(raw), strict=True))


class _Version(msgspec.Struct, gc=False):
    created: str | None = None


class _Record(msgspec.Struct, gc=False):
    """The fields of a snapshot record the corpus needs, as a well-formed snapshot types them.

    Decoding into this skips the other fields (authors, comments...) without building them.  A
    line that does not fit (malformed, odd types, missing keys) takes the general path, which
    gives the same rows and the same errors as :func:`read_records` + :func:`normalize_record`.
    """

    id: str
    title: str
    categories: str
    abstract: str | None = None
    versions: list[_Version] | None = None
    update_date: str | None = None
    doi: str | None = None


_decode_record = msgspec.json.Decoder(_Record).decode


def _fast_fields(record: _Record) -> tuple[Any, ...]:
    """:func:`_record_fields` for a decoded :class:`_Record` (same checks, same order)."""
    paper_id = _clean_id(record.id)
    categories = _category_list(record.categories, paper_id)
    title = _clean_title(record.title, paper_id)
    versions = record.versions
    submitted = _version_date(versions[0].created) if versions else None
    return _fields(
        paper_id, title, categories, submitted, record.update_date, record.abstract, record.doi
    )


def _normalized_fields(path: str | Path) -> Iterator[tuple[Any, ...]]:
    """Yield the corpus rows of a snapshot file as value tuples in schema order.

    Equivalent to :func:`normalize_record` over :func:`read_records`, only faster: well-formed
    lines are decoded straight into the needed fields.
    """
    number = 0
    line_number = 0
    with open_binary(path) as handle:
        try:
            for line_number, line in enumerate(handle, start=1):
                try:
                    record: _Record | dict[str, Any] | None = _decode_record(line)
                except msgspec.DecodeError:
                    record = _general_record(path, line_number, line)
                    if record is None:
                        continue
                number += 1
                try:
                    if isinstance(record, _Record):
                        fields = _fast_fields(record)
                    else:
                        fields = _record_fields(record)
                except (KeyError, ValueError, TypeError, AttributeError) as error:
                    raise CorpusError(f"{path}: record {number}: bad record: {error!r}") from None
                yield fields
        except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile, UnicodeDecodeError) as error:
            raise CorpusError(
                f"{path}: unreadable after line {line_number}: {error} (truncated download?)"
            ) from None


def normalized_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the corpus rows of a snapshot file (:func:`normalize_record` of each record).

    Raises:
        CorpusError: Naming file and line for a malformed line, or file and record number for an
            incomplete record.
    """
    for fields in _normalized_fields(path):
        yield dict(zip(_FIELD_NAMES, fields, strict=True))


def normalized_tables(path: str | Path, batch_size: int = 50_000) -> Iterator[pa.Table]:
    """Yield the corpus rows of a snapshot file as tables of ``batch_size`` rows.

    The fast form of :func:`normalized_records` (no row dicts): writing these tables with
    :func:`write_tables` gives the same file as :func:`write_corpus` of the rows.

    Raises:
        CorpusError: As :func:`normalized_records`.
    """
    batch: list[tuple[Any, ...]] = []
    for fields in _normalized_fields(path):
        batch.append(fields)
        if len(batch) >= batch_size:
            yield _columns_table(zip(*batch, strict=True))
            batch.clear()
    if batch:
        yield _columns_table(zip(*batch, strict=True))


def _general_record(path: str | Path, line_number: int, line: bytes) -> dict[str, Any] | None:
    """Decode a line as :func:`read_records` does: None for a blank line, else a JSON object."""
    text = line.decode("utf-8")
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise CorpusError(f"{path}:{line_number}: malformed JSON: {error.msg}") from None
    if not isinstance(record, dict):
        raise CorpusError(f"{path}:{line_number}: expected a JSON object")
    return record


def _columns_table(columns: Iterable[Sequence[Any]]) -> pa.Table:
    """A corpus table from its columns' values, in schema order."""
    return pa.Table.from_arrays(
        [
            pa.array(values, type=field.type)
            for field, values in zip(CORPUS_SCHEMA, columns, strict=True)
        ],
        schema=CORPUS_SCHEMA,
    )


def _row_tables(rows: Iterable[dict[str, Any]], batch_size: int) -> Iterator[pa.Table]:
    """Corpus tables of ``batch_size`` rows from row dicts, built column by column."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            yield _columns_table([list(map(itemgetter(name), batch)) for name in _FIELD_NAMES])
            batch.clear()
    if batch:
        yield _columns_table([list(map(itemgetter(name), batch)) for name in _FIELD_NAMES])


def write_tables(tables: Iterable[pa.Table], output: str | Path) -> int:
    """Write corpus tables to a parquet file, one row group each; return the row count.

    The file appears under its final name only once complete.
    """
    count = 0
    with (
        atomic_path(output) as partial,
        pq.ParquetWriter(partial, CORPUS_SCHEMA, compression="zstd") as writer,
    ):
        for table in tables:
            writer.write_table(table)
            count += table.num_rows
    return count


def write_corpus(
    rows: Iterable[dict[str, Any]], output: str | Path, batch_size: int = 50_000
) -> int:
    """Write corpus rows to a parquet file, streaming in batches; return the row count.

    The file appears under its final name only once complete.
    """
    return write_tables(_row_tables(rows, batch_size), output)
