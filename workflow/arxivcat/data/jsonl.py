"""Reading JSON-lines files (plain, gzip or zip) line by line, with errors that name the line.

Shared by the snapshot reader (:mod:`arxivcat.data.corpus`) and the local weak-negative sources
(:mod:`arxivcat.negatives.prepare_weak_negatives`).  A line is decoded on its own, so a bad byte,
a malformed line or a truncated archive is reported for what it is, with file and line number.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from arxivcat.errors import ArxivcatError

_READ_BUFFER = 1 << 20


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


def read_records(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSON-lines file, skipping blank lines.

    Raises:
        CorpusError: For a malformed line or one that is not UTF-8 (with file and line number),
            or a truncated archive.
    """
    with open_binary(path) as handle:
        line_number = 0
        try:
            for line_number, line in enumerate(handle, start=1):
                record = decode_line(path, line_number, line)
                if record is not None:
                    yield record
        except (EOFError, gzip.BadGzipFile, zipfile.BadZipFile) as error:
            raise truncated(path, line_number, error) from None


def truncated(path: str | Path, line_number: int, error: Exception) -> CorpusError:
    """The error for an archive that ends early (``EOFError``, a bad gzip or zip file)."""
    return CorpusError(
        f"{path}: unreadable after line {line_number}: {error} (truncated download?)"
    )


def utf8_line(path: str | Path, line_number: int, line: bytes) -> str:
    """Decode one line of a text file as UTF-8; a byte-order mark on the first line is dropped.

    Text in another encoding (a spreadsheet's cp1252 or latin-1) is refused rather than guessed:
    any bytes decode as latin-1, so a guess can garble text without anyone noticing.

    Raises:
        CorpusError: For bytes that are not UTF-8, naming file, line, byte and column.
    """
    try:
        return line.decode("utf-8-sig" if line_number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(
            f"{path}:{line_number}: not UTF-8 text: byte 0x{line[error.start]:02x} at column "
            f"{error.start + 1}"
        ) from None


def decode_line(path: str | Path, line_number: int, line: bytes) -> dict[str, Any] | None:
    """Decode one line: None for a blank line, else a JSON object.

    Raises:
        CorpusError: For a line that is not UTF-8, not JSON or not an object, naming file and line.
    """
    text = utf8_line(path, line_number, line)
    if not text.strip():
        return None
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise CorpusError(f"{path}:{line_number}: malformed JSON: {error.msg}") from None
    if not isinstance(record, dict):
        raise CorpusError(f"{path}:{line_number}: expected a JSON object")
    return record
