"""Streaming reader of the corpora the predict stage scores.

A corpus is one or more files (a path, a directory or a glob) of JSON lines (``.jsonl``/``.json``,
optionally gzipped; read by the corpus stage's own reader), CSV or parquet.  Each record needs an
id (column ``id``, ``arxiv_id``, ``paper_id`` or ``doi``), a title (``title`` or OpenAlex's
``display_name``) and an abstract (``abstract``, or an OpenAlex ``abstract_inverted_index``,
rebuilt by the weak-negative reader's own code).  Records are yielded in file order, in chunks of
a fixed number of rows, so memory depends on the chunk size and never on the corpus size, and the
same corpus always gives the same chunks (resumption relies on it).

Files as people have them: text is UTF-8 (a byte-order mark, as Excel's "CSV UTF-8" writes, is
fine); another encoding fails naming file, line and byte rather than being guessed (any bytes
decode as latin-1, so a guess garbles silently).  A missing value is missing whatever its
spelling: an empty cell, JSON ``null`` or ``NaN``, or a cell reading ``NaN``, ``null``, ``None``,
``NA``, ``N/A`` or ``#N/A`` (any case), so no paper is ever scored as the text "nan".  An empty
file holds no papers.  Repeated ids are read like any other row (see
:mod:`arxivcat.predict.predict`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from arxivcat.data.jsonl import CorpusError, open_binary, read_records, utf8_line
from arxivcat.errors import ArxivcatError
from arxivcat.io.sources import source_files
from arxivcat.negatives.openalex_works import rebuild_abstract, short_id
from arxivcat.predict.settings import CORPUS_SUFFIXES

ID_COLUMNS = ("id", "arxiv_id", "paper_id", "doi")
TITLE_COLUMNS = ("title", "display_name")
ABSTRACT_COLUMNS = ("abstract", "abstract_inverted_index")
# Parquet rows decoded at a time (a record batch), independent of the chunk size.
_PARQUET_BATCH = 8192
# How spreadsheets, pandas and databases spell a missing value in a text cell (compared lowercase).
MISSING = frozenset({"nan", "null", "none", "na", "n/a", "<na>", "#n/a"})


class CorpusReadError(ArxivcatError, ValueError):
    """A corpus that cannot be read, described in one line (file, row, column)."""


@dataclass(frozen=True)
class PaperChunk:
    """Consecutive papers of a corpus.

    Attributes:
        ids: Paper ids, as strings.
        titles: Titles ('' when absent).
        abstracts: Abstracts ('' when absent).
    """

    ids: list[str]
    titles: list[str]
    abstracts: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def has_text(self) -> list[bool]:
        """Whether each paper has both a title and an abstract (the pair the models read)."""
        return [
            bool(t.strip()) and bool(a.strip())
            for t, a in zip(self.titles, self.abstracts, strict=True)
        ]


def corpus_files(source: str | Path) -> list[Path]:
    """The files of a corpus source, sorted (:func:`arxivcat.io.sources.source_files`).

    Raises:
        CorpusReadError: If nothing matches or a file has an unknown format.
    """
    return source_files(source, CORPUS_SUFFIXES, error=CorpusReadError)


def _first(record: dict[str, Any], columns: tuple[str, ...]) -> str | None:
    return next((c for c in columns if c in record), None)


def _columns(path: Path, names: list[str] | dict[str, Any]) -> tuple[str, str, str]:
    """The id, title and abstract columns of a file, or a one-line error naming what lacks."""
    found = [_first(dict.fromkeys(names), options) for options in
             (ID_COLUMNS, TITLE_COLUMNS, ABSTRACT_COLUMNS)]  # fmt: skip
    for column, options in zip(found, ("id", "title", "abstract"), strict=True):
        if column is None:
            wanted = {"id": ID_COLUMNS, "title": TITLE_COLUMNS, "abstract": ABSTRACT_COLUMNS}
            raise CorpusReadError(
                f"{path}: no {options} column (one of {', '.join(wanted[options])})"
            )
    return found[0], found[1], found[2]  # type: ignore[return-value]


def _text(value: Any) -> str:
    """A cell as single-spaced text; '' for a missing value however it is spelt."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = " ".join(str(value).split())
    return "" if text.lower() in MISSING else text


def _paper(
    path: Path, row: int, record: dict[str, Any], columns: tuple[str, str, str]
) -> tuple[str, str, str]:
    id_column, title_column, abstract_column = columns
    paper_id = short_id(_text(record.get(id_column)))
    if not paper_id:
        raise CorpusReadError(f"{path}: row {row} has no {id_column}")
    abstract = record.get(abstract_column)
    if abstract_column == "abstract_inverted_index":
        abstract = rebuild_abstract(abstract)
    return paper_id, _text(record.get(title_column)), _text(abstract)


def _records(path: Path) -> Iterator[tuple[str, str, str]]:
    """(id, title, abstract) of every record of one file, in file order."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        try:
            parquet = pq.ParquetFile(path)
        except Exception as error:
            raise CorpusReadError(f"{path}: unreadable parquet ({error})") from None
        columns = _columns(path, parquet.schema_arrow.names)
        row = 0
        for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=list(columns)):
            for record in batch.to_pylist():
                row += 1
                yield _paper(path, row, record, columns)
        return
    if not name.endswith(".csv"):
        columns = None
        for row, record in enumerate(read_records(path), 1):
            columns = columns or _columns(path, record)
            yield _paper(path, row, record, columns)
        return
    with _csv_lines(path) as lines:
        try:
            reader = csv.DictReader(lines)
            if reader.fieldnames is None:
                return  # an empty file
            columns = _columns(path, reader.fieldnames)
            for row, record in enumerate(reader, 1):
                yield _paper(path, row, record, columns)
        except (OSError, csv.Error) as error:
            raise CorpusReadError(f"{path}: unreadable ({type(error).__name__}: {error})") from None


@contextmanager
def _csv_lines(path: Path) -> Iterator[Iterator[str]]:
    """The lines of a CSV file (plain or gzip) as text, each checked to be UTF-8 by itself.

    Lines keep their line ends, as :mod:`csv` needs for quoted fields that span lines.

    Raises:
        CorpusReadError: For a line that is not UTF-8, naming file, line and byte.
    """

    def lines(raw: Iterator[bytes]) -> Iterator[str]:
        try:
            for number, line in enumerate(raw, 1):
                yield utf8_line(path, number, line)
        except CorpusError as error:
            raise CorpusReadError(str(error)) from None

    with open_binary(path) as raw:
        yield lines(raw)


def count_papers(files: list[Path]) -> int:
    """The number of records in ``files`` (parquet metadata; one pass over text files)."""
    return sum(papers_per_file(files))


def papers_per_file(files: list[Path]) -> list[int]:
    """The number of records in each of ``files``, in order (an empty file has none)."""
    counts = []
    for path in files:
        name = path.name.lower()
        if name.endswith(".parquet"):
            try:
                counts.append(pq.ParquetFile(path).metadata.num_rows)
            except Exception as error:
                raise CorpusReadError(f"{path}: unreadable parquet ({error})") from None
        elif name.endswith(".csv"):
            with _csv_lines(path) as lines:
                try:
                    counts.append(max(sum(1 for row in csv.reader(lines) if row) - 1, 0))
                except csv.Error as error:
                    raise CorpusReadError(f"{path}: unreadable (Error: {error})") from None
        else:
            with open_binary(path) as handle:
                counts.append(sum(1 for line in handle if line.strip()))
    return counts


def iter_chunks(files: list[Path], chunk_rows: int) -> Iterator[PaperChunk]:
    """The papers of ``files`` in chunks of ``chunk_rows`` (the last one may be shorter)."""
    ids: list[str] = []
    titles: list[str] = []
    abstracts: list[str] = []
    for path in files:
        for paper_id, title, abstract in _records(path):
            ids.append(paper_id)
            titles.append(title)
            abstracts.append(abstract)
            if len(ids) == chunk_rows:
                yield PaperChunk(ids, titles, abstracts)
                ids, titles, abstracts = [], [], []
    if ids:
        yield PaperChunk(ids, titles, abstracts)
