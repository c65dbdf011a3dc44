"""HTTP downloads that survive real servers: resume with range requests, retries, checksums.

A download goes to ``NAME.part`` in the cache directory and is renamed to ``NAME`` only once it is
complete (size matches the server's, sha256 matches when one is expected), so an interrupted
transfer never leaves a file that looks complete, and the next attempt (in the same run after a
dropped connection, or in a later run after a failed job) continues where the last one stopped
with ``Range: bytes=N-``.  ``If-Range`` with the server's ETag/Last-Modified makes a server whose
file changed in between send the whole new file instead of a splice of two versions.

A download counts as complete only when its completeness is known: the server's length
(``Content-Length``/``Content-Range``) was matched, a chunked transfer reached its terminating
chunk, the expected sha256 matched, or the file is a zip or gzip archive whose end is intact.
Otherwise (a server that just closes the connection) the log warns and :class:`Download` says
``unverified``, which the corpus manifest records.  A cached file that later fails to parse is
removed with :func:`discard`, so the next run fetches it again instead of trusting a 304.

Kaggle datasets (``kaggle:OWNER/DATASET``) use the public download API with HTTP basic auth from
``KAGGLE_USERNAME``/``KAGGLE_KEY`` (or ``~/.kaggle/kaggle.json``); the API redirects to a signed
storage URL, to which ``requests`` does not forward the credentials.  Requests go through
:class:`arxivcat.io.http.HttpClient` (retries, capped ``Retry-After``); URLs are shown only
redacted (signed URLs carry secrets in their query string).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from arxivcat.errors import ArxivcatError
from arxivcat.io.checksums import file_sha256
from arxivcat.io.http import TRANSIENT_ERRORS, HttpClient, Retry, RetryPolicy, describe
from arxivcat.io.kaggle import kaggle_credentials, kaggle_url
from arxivcat.io.progress import Progress
from arxivcat.io.redact import redact

log = logging.getLogger(__name__)

#: Network reads are small so that little is lost when a connection drops mid-read.
_NET_CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
#: The snapshot download's retries; ``snapshot.max_retry_wait`` sets the cap.
SNAPSHOT_RETRY = RetryPolicy(
    max_attempts=8, backoff=5.0, timeout=60.0, setting="snapshot.max_retry_wait"
)


class FetchError(ArxivcatError, RuntimeError):
    """A download that failed for good, described in one line."""


@dataclass(frozen=True)
class Download:
    """A downloaded file and how its completeness was established.

    Attributes:
        path: The complete file in the cache.
        url: The URL it came from, redacted.
        size: Its size in bytes.
        completeness: ``"length"`` (the server's length matched), ``"chunked"`` (the chunked
            transfer's end was received), ``"sha256"`` (the expected checksum matched), ``"zip"``
            or ``"gzip"`` (the archive's end is intact), or None when nothing could tell.
    """

    path: Path
    url: str
    size: int
    completeness: str | None

    def facts(self) -> dict[str, Any]:
        """The download's entry in a manifest (the URL redacted, "unverified" when unknown)."""
        return {
            "url": self.url,
            "bytes": self.size,
            "completeness": self.completeness or "unverified",
        }


def cache_name(url: str) -> str:
    """A stable file name for ``url`` in the cache: a short hash plus the URL's base name."""
    tag = hashlib.sha256(url.encode()).hexdigest()[:12]
    base = re.sub(r"[^\w.-]", "_", Path(urlsplit(url).path).name) or "download"
    return f"{tag}-{base}"


def fetch_source(
    source: str,
    cache_dir: str | Path,
    expected_sha256: str | None = None,
    session: requests.Session | None = None,
    **options: Any,
) -> Download:
    """Download a ``kaggle:OWNER/DATASET`` or http(s) source into ``cache_dir``.

    Extra keyword ``options`` go to :func:`download`.
    """
    session = session or requests.Session()
    if source.startswith("kaggle:"):
        dataset = source.split(":", 1)[1].strip()
        url = kaggle_url(dataset)
        session.auth = kaggle_credentials()
        name = f"kaggle-{dataset.replace('/', '-')}.zip"
    else:
        url = source
        name = cache_name(url)
    return download(url, Path(cache_dir) / name, expected_sha256, session=session, **options)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(path: Path, url: str, headers: Any, **extra: Any) -> None:
    state = {"url": redact(url), **extra}
    for header in ("ETag", "Last-Modified"):
        if headers.get(header):
            state[header] = headers[header]
    path.write_text(json.dumps(state), encoding="utf-8")


def _archive_end(path: Path) -> str | None:
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


def discard(download: Download) -> None:
    """Remove a cached download (one that failed to parse) so that the next run fetches it."""
    download.path.unlink(missing_ok=True)
    download.path.with_name(download.path.name + ".http.json").unlink(missing_ok=True)
    log.warning("removed the cached download %s; the next run fetches it again", download.path)


def download(
    url: str,
    destination: str | Path,
    expected_sha256: str | None = None,
    session: requests.Session | None = None,
    retry: RetryPolicy = SNAPSHOT_RETRY,
    progress_every: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Download:
    """Download ``url`` to ``destination`` atomically, resuming a previous partial download.

    A complete file already at ``destination`` is kept when it matches ``expected_sha256``, or,
    without an expected checksum, when the server answers a conditional request with 304.

    Args:
        url: What to download (redirects are followed).
        destination: Final path; ``destination.part`` holds the partial download.
        expected_sha256: Expected hex sha256 of the whole file, or None.
        session: The ``requests`` session (carries auth for Kaggle).
        retry: Attempts (each resumes where the last one stopped), back-off (unless the server
            says otherwise with ``Retry-After``), the longest wait on the server and the timeout.
        progress_every: Seconds between two progress lines in the log.
        sleep: The sleep function (tests inject a fake one).

    Raises:
        FetchError: For a client error (4xx other than 408/425/429), exhausted retries, a
            ``Retry-After`` beyond ``retry.max_retry_wait`` or a checksum mismatch; the partial
            file is kept for resumption except after a checksum mismatch.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    state_file = destination.with_name(destination.name + ".http.json")
    partial_state = destination.with_name(destination.name + ".part.http.json")
    expected = expected_sha256.lower() if expected_sha256 else None
    shown = redact(url)
    cached = _read_state(state_file) if destination.is_file() else {}
    if destination.is_file() and expected and file_sha256(destination) == expected:
        log.info("%s: cached copy matches the expected sha256; not downloading", destination)
        return Download(destination, shown, destination.stat().st_size, "sha256")
    conditional = {}
    if destination.is_file() and not expected:
        if cached.get("ETag"):
            conditional["If-None-Match"] = cached["ETag"]
        if cached.get("Last-Modified"):
            conditional["If-Modified-Since"] = cached["Last-Modified"]
    attempt_offset = [0]
    final_headers: dict[str, str] = {}

    def headers() -> dict[str, str]:
        wanted = {"Accept-Encoding": "identity", **conditional}
        offset = attempt_offset[0] = partial.stat().st_size if partial.exists() else 0
        if offset:
            wanted["Range"] = f"bytes={offset}-"
            validator = _read_state(partial_state)
            if validator.get("ETag") or validator.get("Last-Modified"):
                wanted["If-Range"] = validator.get("ETag") or validator["Last-Modified"]
        return wanted

    def receive(response: requests.Response) -> str | None:
        status, offset = response.status_code, attempt_offset[0]
        if status == 304 and conditional:
            return "cached"
        if status == 416 and offset:
            total = response.headers.get("Content-Range", "").rpartition("/")[2]
            if total.isdigit() and int(total) == offset:
                log.info("%s: partial download is already complete", partial)
                return "length"
            partial.unlink()
            raise Retry("the server refused to resume; starting over", wait=0)
        if status >= 400:
            raise FetchError(f"{shown}: {describe(response)}")
        if status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != offset:
                raise FetchError(
                    f"{shown}: bad Content-Range {response.headers.get('Content-Range')!r}"
                    f" for a request from byte {offset}"
                )
            total = int(match.group(3)) if match.group(3) != "*" else None
            mode = "ab"
        else:
            if offset:
                log.info("%s: server sent the whole file; restarting from byte 0", shown)
            offset = 0
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode = "wb"
            _write_state(partial_state, url, response.headers)
        log.info("downloading %s from byte %d of %s", shown, offset, total or "unknown size")
        progress = Progress(log, f"downloading {destination.name}", total, offset, progress_every)
        with open(partial, mode) as handle:
            try:
                # read1 hands over whatever arrived, so a dropped connection loses nothing
                # already received (iter_content would drop the last incomplete chunk).
                while chunk := response.raw.read1(_NET_CHUNK, decode_content=True):
                    handle.write(chunk)
                    progress.advance(len(chunk))
            except TRANSIENT_ERRORS as error:
                raise Retry(
                    f"transfer interrupted at byte {progress.done} ({type(error).__name__})"
                ) from None
        if total is not None and progress.done != total:
            raise Retry(f"transfer ended at byte {progress.done} of {total}")
        final_headers.update(response.headers)
        if total is not None:
            return "length"
        if "chunked" in response.headers.get("Transfer-Encoding", "").lower():
            return "chunked"
        return _archive_end(partial)

    client = HttpClient(session, retry, error=FetchError, sleep=sleep)
    completeness = client.get(
        url,
        receive,
        headers=headers,
        hint=f"the partial download {partial} is kept and the next run resumes it",
    )
    if completeness == "cached":
        log.info("%s: unchanged on the server (304); reusing", destination)
        return Download(destination, shown, destination.stat().st_size, cached.get("completeness"))
    if expected:
        actual = file_sha256(partial)
        if actual != expected:
            partial.unlink()
            partial_state.unlink(missing_ok=True)
            raise FetchError(
                f"{shown}: sha256 {actual} does not match the expected {expected} "
                "(partial download removed)"
            )
        completeness = "sha256"
    if completeness is None:
        log.warning(
            "%s: the server sent neither a length nor a chunked end, so the download's "
            "completeness is unverified (set snapshot.sha256 to check it)",
            shown,
        )
    os.replace(partial, destination)
    _write_state(state_file, url, final_headers, completeness=completeness)
    partial_state.unlink(missing_ok=True)
    size = destination.stat().st_size
    log.info("downloaded %s to %s (%d bytes, completeness %s)", shown, destination, size,
             completeness or "unverified")  # fmt: skip
    return Download(destination, shown, size, completeness)
