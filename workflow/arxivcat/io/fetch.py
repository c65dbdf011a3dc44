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

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from arxivcat.errors import ArxivcatError
from arxivcat.io.checksums import file_sha256
from arxivcat.io.download_cache import archive_end, cache_name, read_state, state_file, write_state
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


def discard(download: Download) -> None:
    """Remove a cached download (one that failed to parse) so that the next run fetches it."""
    download.path.unlink(missing_ok=True)
    state_file(download.path).unlink(missing_ok=True)
    log.warning("removed the cached download %s; the next run fetches it again", download.path)


class _Transfer:
    """One resumable transfer to ``destination.part``, across the client's attempts.

    The client asks :meth:`headers` before each attempt and hands the reply to :meth:`receive`;
    ``offset`` (the partial file's size when the attempt's headers were made) links the two.

    Args:
        url: What to download.
        destination: The final path; the partial file and its validators lie beside it.
        conditional: ``If-None-Match``/``If-Modified-Since`` of a cached complete copy, or {}.
        progress_every: Seconds between two progress lines in the log.
    """

    def __init__(
        self, url: str, destination: Path, conditional: dict[str, str], progress_every: float
    ) -> None:
        self.url = url
        self.shown = redact(url)
        self.destination = destination
        self.partial = destination.with_name(destination.name + ".part")
        self.partial_state = state_file(self.partial)
        self.conditional = conditional
        self.progress_every = progress_every
        self.offset = 0
        #: The headers of the reply whose body completed the partial file.
        self.final_headers: dict[str, str] = {}

    def headers(self) -> dict[str, str]:
        """This attempt's request headers: a range from the partial file's end, if any."""
        wanted = {"Accept-Encoding": "identity", **self.conditional}
        self.offset = self.partial.stat().st_size if self.partial.exists() else 0
        if self.offset:
            wanted["Range"] = f"bytes={self.offset}-"
            validator = read_state(self.partial_state)
            if validator.get("ETag") or validator.get("Last-Modified"):
                wanted["If-Range"] = validator.get("ETag") or validator["Last-Modified"]
        return wanted

    def receive(self, response: requests.Response) -> str | None:
        """Append (or write) the reply's body to the partial file; return its completeness.

        Returns:
            ``"cached"`` for a 304 to the conditional request, else the completeness as in
            :class:`Download` (None when unknown).

        Raises:
            Retry: For a transfer cut short or a refused resumption (then from byte 0).
            FetchError: For a client error or a reply to the wrong range.
        """
        status = response.status_code
        if status == 304 and self.conditional:
            return "cached"
        if status == 416 and self.offset:
            return self._already_complete(response)
        if status >= 400:
            raise FetchError(f"{self.shown}: {describe(response)}")
        offset, total, mode = self._start(response)
        done = self._write_body(response, offset, total, mode)
        if total is not None and done != total:
            raise Retry(f"transfer ended at byte {done} of {total}")
        self.final_headers.update(response.headers)
        if total is not None:
            return "length"
        if "chunked" in response.headers.get("Transfer-Encoding", "").lower():
            return "chunked"
        return archive_end(self.partial)

    def _already_complete(self, response: requests.Response) -> str:
        """A 416 to a range request: the partial file is whole, or it starts over."""
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        if total.isdigit() and int(total) == self.offset:
            log.info("%s: partial download is already complete", self.partial)
            return "length"
        self.partial.unlink()
        raise Retry("the server refused to resume; starting over", wait=0)

    def _start(self, response: requests.Response) -> tuple[int, int | None, str]:
        """Where the reply's body starts, the file's whole size if known, and the write mode."""
        if response.status_code == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != self.offset:
                raise FetchError(
                    f"{self.shown}: bad Content-Range {response.headers.get('Content-Range')!r}"
                    f" for a request from byte {self.offset}"
                )
            return self.offset, int(match.group(3)) if match.group(3) != "*" else None, "ab"
        if self.offset:
            log.info("%s: server sent the whole file; restarting from byte 0", self.shown)
        length = response.headers.get("Content-Length")
        write_state(self.partial_state, self.url, response.headers)
        return 0, int(length) if length and length.isdigit() else None, "wb"

    def _write_body(
        self, response: requests.Response, offset: int, total: int | None, mode: str
    ) -> int:
        """Write the body to the partial file; return the partial file's size then."""
        log.info("downloading %s from byte %d of %s", self.shown, offset, total or "unknown size")
        name = f"downloading {self.destination.name}"
        progress = Progress(log, name, total, offset, self.progress_every)
        with open(self.partial, mode) as handle:
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
        return progress.done

    def finish(self, expected: str | None, completeness: str | None) -> Download:
        """Check the partial file against ``expected``, then make it the destination."""
        if expected:
            actual = file_sha256(self.partial)
            if actual != expected:
                self.partial.unlink()
                self.partial_state.unlink(missing_ok=True)
                raise FetchError(
                    f"{self.shown}: sha256 {actual} does not match the expected {expected} "
                    "(partial download removed)"
                )
            completeness = "sha256"
        if completeness is None:
            log.warning(
                "%s: the server sent neither a length nor a chunked end, so the download's "
                "completeness is unverified (set snapshot.sha256 to check it)",
                self.shown,
            )
        destination = self.destination
        os.replace(self.partial, destination)
        state = state_file(destination)
        write_state(state, self.url, self.final_headers, completeness=completeness)
        self.partial_state.unlink(missing_ok=True)
        size = destination.stat().st_size
        log.info("downloaded %s to %s (%d bytes, completeness %s)", self.shown, destination,
                 size, completeness or "unverified")  # fmt: skip
        return Download(destination, self.shown, size, completeness)


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
    expected = expected_sha256.lower() if expected_sha256 else None
    shown = redact(url)
    cached = read_state(state_file(destination)) if destination.is_file() else {}
    if destination.is_file() and expected and file_sha256(destination) == expected:
        log.info("%s: cached copy matches the expected sha256; not downloading", destination)
        return Download(destination, shown, destination.stat().st_size, "sha256")
    conditional = {}
    if destination.is_file() and not expected:
        if cached.get("ETag"):
            conditional["If-None-Match"] = cached["ETag"]
        if cached.get("Last-Modified"):
            conditional["If-Modified-Since"] = cached["Last-Modified"]
    transfer = _Transfer(url, destination, conditional, progress_every)
    client = HttpClient(session, retry, error=FetchError, sleep=sleep)
    completeness = client.get(
        url,
        transfer.receive,
        headers=transfer.headers,
        hint=f"the partial download {transfer.partial} is kept and the next run resumes it",
    )
    if completeness == "cached":
        log.info("%s: unchanged on the server (304); reusing", destination)
        return Download(destination, shown, destination.stat().st_size, cached.get("completeness"))
    return transfer.finish(expected, completeness)
