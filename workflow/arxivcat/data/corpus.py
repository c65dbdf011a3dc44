"""Reading arXiv metadata records and normalizing them into the columnar corpus.

The corpus is one parquet file with a row per record (see
:data:`arxivcat.data.corpus_table.CORPUS_SCHEMA`, where it is written); every later stage reads
it.  Input is the arXiv snapshot's JSON-lines format, plain, gzip- or zip-compressed, read line by
line (:mod:`arxivcat.data.jsonl`).  Reading streams: memory stays flat however large the snapshot
is.

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
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from arxivcat import taxonomy
from arxivcat.data.corpus_table import CORPUS_SCHEMA as CORPUS_SCHEMA  # its importers' name
from arxivcat.data.corpus_table import FIELD_NAMES, columns_table
from arxivcat.data.jsonl import CorpusError, decode_line, open_binary, truncated

_NEW_STYLE_ID = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_OLD_STYLE_ID = re.compile(r"^[a-z-]+(?:\.[A-Z]{2})?/(\d{2})(\d{2})\d{3}$")
_VERSION_SUFFIX = re.compile(r"v\d+$")
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


def bad_record(error: Exception) -> str:
    """What is wrong with a record that :func:`normalize_record` refused, in a few words."""
    if isinstance(error, KeyError):
        return f"bad record: no {error.args[0]!r} field"
    if isinstance(error, ValueError):
        return f"bad record: {error}"
    return f"bad record: a field of the wrong type ({error})"


def normalize_record(raw: dict[str, Any]) -> dict[str, Any]:
    """Turn one snapshot record into a corpus row.

    Whitespace in the title and abstract is collapsed, category aliases are resolved, the version
    suffix is stripped from the id, and the submission date is the first version's date (falling
    back on the year encoded in the id).

    Raises:
        KeyError/ValueError: If the record lacks an id, a title or categories.
    """
    return dict(zip(FIELD_NAMES, _record_fields(raw), strict=True))


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
    line_number = 0
    with open_binary(path) as handle:
        try:
            for line_number, line in enumerate(handle, start=1):
                try:
                    record: _Record | dict[str, Any] | None = _decode_record(line)
                except (msgspec.DecodeError, UnicodeDecodeError):
                    record = decode_line(path, line_number, line)
                    if record is None:
                        continue
                try:
                    if isinstance(record, _Record):
                        fields = _fast_fields(record)
                    else:
                        fields = _record_fields(record)
                except (KeyError, ValueError, TypeError, AttributeError) as error:
                    raise CorpusError(f"{path}:{line_number}: {bad_record(error)}") from None
                yield fields
        except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile) as error:
            raise truncated(path, line_number, error) from None


def normalized_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the corpus rows of a snapshot file (:func:`normalize_record` of each record).

    Raises:
        CorpusError: Naming file and line, and what is wrong with the line.
    """
    for fields in _normalized_fields(path):
        yield dict(zip(FIELD_NAMES, fields, strict=True))


def normalized_tables(path: str | Path, batch_size: int = 50_000) -> Iterator[pa.Table]:
    """Yield the corpus rows of a snapshot file as tables of ``batch_size`` rows.

    The fast form of :func:`normalized_records` (no row dicts): writing these tables with
    :func:`arxivcat.data.corpus_table.write_tables` gives the same file as
    :func:`~arxivcat.data.corpus_table.write_corpus` of the rows.

    Raises:
        CorpusError: As :func:`normalized_records`.
    """
    batch: list[tuple[Any, ...]] = []
    for fields in _normalized_fields(path):
        batch.append(fields)
        if len(batch) >= batch_size:
            yield columns_table(zip(*batch, strict=True))
            batch.clear()
    if batch:
        yield columns_table(zip(*batch, strict=True))
