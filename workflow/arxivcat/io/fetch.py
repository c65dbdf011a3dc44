"""HTTP downloads that survive real servers: resume with range requests, retries, checksums.

A download goes to ``NAME.part`` in the cache directory and is renamed to ``NAME`` only once it is
complete (size matches the server's, sha256 matches when one is expected), so an interrupted
transfer never leaves a file that looks complete, and the next attempt (in the same run after a
dropped connection, or in a later run after a failed job) continues where the last one stopped
with ``Range: bytes=N-``.  ``If-Range`` with the server's ETag/Last-Modified makes a server whose
file changed in between send the whole new file instead of a splice of two versions.

Kaggle datasets (``kaggle:OWNER/DATASET``) use the public download API with HTTP basic auth from
``KAGGLE_USERNAME``/``KAGGLE_KEY`` (or ``~/.kaggle/kaggle.json``); the API redirects to a signed
storage URL, to which ``requests`` does not forward the credentials.  The key is never logged and
URLs are logged without their query string (signed URLs carry secrets there).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

from arxivcat.errors import ArxivcatError
from arxivcat.io.checksums import file_sha256

log = logging.getLogger(__name__)

#: Kaggle's API root; ``ARXIVCAT_KAGGLE_API`` overrides it (tests point it at a loopback server).
KAGGLE_API = "https://www.kaggle.com/api/v1"
#: Network reads are small so that little is lost when a connection drops mid-read.
_NET_CHUNK = 1 << 16
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_USER_AGENT = "arxivcat (https://github.com/arxivcat/arxivcat; research workflow)"


class FetchError(ArxivcatError, RuntimeError):
    """A download that failed for good, described in one line."""


def redact(url: str) -> str:
    """Return ``url`` without query string, fragment or user info (safe to log)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def retry_after_seconds(value: str | None, default: float, now: dt.datetime | None = None) -> float:
    """Parse a ``Retry-After`` header: delay seconds or an HTTP date; ``default`` if absent/bad.

    Args:
        value: The header's value.
        default: Seconds to wait when the header is absent or unparsable.
        now: The current time (for tests); defaults to the clock.
    """
    if value is None or not value.strip():
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def kaggle_credentials(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """Return (username, key) from KAGGLE_USERNAME/KAGGLE_KEY or kaggle.json.

    ``kaggle.json`` is looked up in ``KAGGLE_CONFIG_DIR`` or ``~/.kaggle``.

    Raises:
        FetchError: If no credentials are found (the message says where they were looked for).
    """
    environ = dict(os.environ if environ is None else environ)
    if environ.get("KAGGLE_USERNAME") and environ.get("KAGGLE_KEY"):
        return environ["KAGGLE_USERNAME"], environ["KAGGLE_KEY"]
    folder = Path(environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle")
    path = folder / "kaggle.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return str(data["username"]), str(data["key"])
        except (ValueError, KeyError, TypeError):
            raise FetchError(f"{path}: expected {{'username': ..., 'key': ...}}") from None
    raise FetchError(
        "Kaggle download needs credentials: set KAGGLE_USERNAME and KAGGLE_KEY or create "
        f"{path} (see https://www.kaggle.com/docs/api)"
    )


def kaggle_url(dataset: str, api: str | None = None) -> str:
    """Return the download API URL of ``OWNER/DATASET``."""
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", dataset):
        raise FetchError(f"kaggle:{dataset}: expected kaggle:OWNER/DATASET")
    api = (api or os.environ.get("ARXIVCAT_KAGGLE_API") or KAGGLE_API).rstrip("/")
    return f"{api}/datasets/download/{dataset}"


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
) -> Path:
    """Download a ``kaggle:OWNER/DATASET`` or http(s) source into ``cache_dir``; return the file.

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


def _validators(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_validators(path: Path, response: requests.Response, url: str) -> None:
    data = {"url": redact(url)}
    for header in ("ETag", "Last-Modified"):
        if response.headers.get(header):
            data[header] = response.headers[header]
    path.write_text(json.dumps(data), encoding="utf-8")


def download(
    url: str,
    destination: str | Path,
    expected_sha256: str | None = None,
    session: requests.Session | None = None,
    max_attempts: int = 8,
    backoff: float = 5.0,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Path:
    """Download ``url`` to ``destination`` atomically, resuming a previous partial download.

    A complete file already at ``destination`` is kept when it matches ``expected_sha256``, or,
    without an expected checksum, when the server answers a conditional request with 304.

    Args:
        url: What to download (redirects are followed).
        destination: Final path; ``destination.part`` holds the partial download.
        expected_sha256: Expected hex sha256 of the whole file, or None.
        session: The ``requests`` session (carries auth for Kaggle).
        max_attempts: Requests before giving up (each resumes where the last one stopped).
        backoff: Seconds to wait after a failed attempt (doubling), unless the server says
            otherwise with ``Retry-After``.
        timeout: Connect/read timeout of one request, in seconds.
        sleep: The sleep function (tests inject a fake one).

    Returns:
        ``destination``.

    Raises:
        FetchError: For a client error (4xx other than 408/429), exhausted retries, a size
            mismatch or a checksum mismatch; the partial file is kept for resumption except
            after a checksum mismatch.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    state_file = destination.with_name(destination.name + ".http.json")
    partial_state = destination.with_name(destination.name + ".part.http.json")
    expected = expected_sha256.lower() if expected_sha256 else None
    session = session or requests.Session()
    shown = redact(url)

    headers_base = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if destination.is_file():
        if expected and file_sha256(destination) == expected:
            log.info("%s: cached copy matches the expected sha256; not downloading", destination)
            return destination
        if not expected:
            validators = _validators(state_file)
            conditional = dict(headers_base)
            if validators.get("ETag"):
                conditional["If-None-Match"] = validators["ETag"]
            if validators.get("Last-Modified"):
                conditional["If-Modified-Since"] = validators["Last-Modified"]
            if len(conditional) > len(headers_base):
                try:
                    with session.get(url, headers=conditional, stream=True, timeout=timeout) as r:
                        if r.status_code == 304:
                            log.info("%s: unchanged on the server (304); reusing", destination)
                            return destination
                except requests.RequestException as error:
                    log.warning("conditional request to %s failed: %s", shown, type(error).__name__)

    delay = backoff
    for attempt in range(1, max_attempts + 1):
        offset = partial.stat().st_size if partial.exists() else 0
        headers = dict(headers_base)
        if offset:
            headers["Range"] = f"bytes={offset}-"
            validator = _validators(partial_state)
            if validator.get("ETag") or validator.get("Last-Modified"):
                headers["If-Range"] = validator.get("ETag") or validator["Last-Modified"]
        try:
            with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
                status = response.status_code
                if status == 416 and offset:
                    total = response.headers.get("Content-Range", "").rpartition("/")[2]
                    if total.isdigit() and int(total) == offset:
                        log.info("%s: partial download is already complete", partial)
                        break
                    log.warning("%s: server refused to resume; starting over", partial)
                    partial.unlink()
                    continue
                if status in (408, 429) or status >= 500:
                    wait = retry_after_seconds(response.headers.get("Retry-After"), delay)
                    log.warning(
                        "%s: HTTP %d (attempt %d/%d); retrying in %.0f s",
                        shown, status, attempt, max_attempts, wait,
                    )  # fmt: skip
                    if attempt < max_attempts:
                        sleep(wait)
                        delay *= 2
                    continue
                if status >= 400:
                    raise FetchError(f"{shown}: HTTP {status} {response.reason}")
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
                    _save_validators(partial_state, response, url)
                log.info(
                    "downloading %s from byte %d of %s", shown, offset, total or "unknown size"
                )
                written = offset
                last_report = time.monotonic()
                with open(partial, mode) as handle:
                    # read1 hands over whatever arrived, so a dropped connection loses nothing
                    # already received (iter_content would drop the last incomplete chunk).
                    while chunk := response.raw.read1(_NET_CHUNK, decode_content=True):
                        handle.write(chunk)
                        written += len(chunk)
                        if time.monotonic() - last_report > 30:
                            log.info("%s: %d of %s bytes", destination.name, written, total)
                            last_report = time.monotonic()
                if total is not None and written != total:
                    raise requests.exceptions.ChunkedEncodingError(
                        f"transfer ended at byte {written} of {total}"
                    )
                _save_validators(state_file, response, url)
                break
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.Timeout,
            urllib3.exceptions.HTTPError,
        ) as error:
            size = partial.stat().st_size if partial.exists() else 0
            log.warning(
                "%s: transfer interrupted at byte %d (%s; attempt %d/%d)",
                shown, size, type(error).__name__, attempt, max_attempts,
            )  # fmt: skip
            if attempt < max_attempts:
                sleep(delay)
                delay *= 2
    else:
        raise FetchError(
            f"{shown}: giving up after {max_attempts} attempts; the partial download {partial} "
            "is kept and the next run resumes it"
        )

    if expected:
        actual = file_sha256(partial)
        if actual != expected:
            partial.unlink()
            partial_state.unlink(missing_ok=True)
            raise FetchError(
                f"{shown}: sha256 {actual} does not match the expected {expected} "
                "(partial download removed)"
            )
    os.replace(partial, destination)
    partial_state.unlink(missing_ok=True)
    log.info("downloaded %s to %s (%d bytes)", shown, destination, destination.stat().st_size)
    return destination
