"""The download cache's files: stable names, the record kept beside each file, archive ends.

Beside ``NAME`` (a complete download) and ``NAME.part`` (a partial one), a small JSON record
``NAME.http.json`` (or ``NAME.part.http.json``) keeps the redacted URL, the server's validators
(ETag, Last-Modified) for conditional and ``If-Range`` requests, and, for a complete file, how
its completeness was established.  :func:`archive_end` tells whether a zip or gzip file is whole.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from arxivcat.io.http import Retry
from arxivcat.io.redact import redact


def cache_name(url: str) -> str:
    """A stable file name for ``url`` in the cache: a short hash plus the URL's base name."""
    tag = hashlib.sha256(url.encode()).hexdigest()[:12]
    base = re.sub(r"[^\w.-]", "_", Path(urlsplit(url).path).name) or "download"
    return f"{tag}-{base}"


def state_file(path: Path) -> Path:
    """The record kept beside a (complete or partial) download."""
    return path.with_name(path.name + ".http.json")


def read_state(path: Path) -> dict[str, Any]:
    """A record written by :func:`write_state`; {} when absent or unreadable."""
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_state(path: Path, url: str, headers: Mapping[str, str], **extra: Any) -> None:
    """Write the record: the redacted ``url``, the validators among ``headers``, ``extra``."""
    state = {"url": redact(url), **extra}
    for header in ("ETag", "Last-Modified"):
        if headers.get(header):
            state[header] = headers[header]
    path.write_text(json.dumps(state), encoding="utf-8")


def archive_end(path: Path) -> str | None:
    """``"zip"``/``"gzip"`` for an archive whose end is intact, None for other files.

    Raises:
        Retry: For a zip or gzip archive that ends early (the transfer was cut).
    """
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic.startswith(b"PK"):
        if zipfile.is_zipfile(path):
            return "zip"
        raise Retry("the zip archive has no end-of-archive record (transfer cut?)")
    if magic.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as stream:
                while stream.read(1 << 20):
                    pass
        except (EOFError, gzip.BadGzipFile, zlib.error) as error:
            raise Retry(f"the gzip stream ends early ({error}; transfer cut?)") from None
        return "gzip"
    return None
