"""The one HTTP client of the workflow: retries, a capped ``Retry-After``, pacing, redaction.

Every stage that talks to a server (the snapshot download, the OAI-PMH harvest, the OpenAlex
API) sends its requests through :class:`HttpClient`, so these hold everywhere:

* network errors, cut transfers, HTTP 408/425/429 and 5xx are retried with exponential back-off
  (``backoff``, doubling), up to ``max_attempts`` requests;
* a ``Retry-After`` (delay seconds or an HTTP date, :func:`retry_after`) is honoured up to
  ``max_retry_wait`` seconds; a server asking for more fails the request at once, with the
  server's reason in one line (no job sleeps for a day);
* requests start at least ``interval`` seconds apart (OAI-PMH servers ask for that);
* URLs, headers and error bodies reach logs and messages only through
  :func:`arxivcat.io.redact.redact`.

The numbers (attempts, back-off, cap, timeout, pacing) are one :class:`RetryPolicy` value,
which each stage builds once from its settings and hands to its client.

The caller's ``handle`` function reads each reply the client does not retry by itself; it
returns the result, raises to fail, or raises :class:`Retry` when the reply is not usable (a
truncated body, incomplete XML) so that the same loop tries again.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import requests
import urllib3

from arxivcat.errors import ArxivcatError
from arxivcat.io.redact import redact

log = logging.getLogger(__name__)

T = TypeVar("T")

USER_AGENT = "arxivcat (https://github.com/arxivcat/arxivcat; research workflow)"
#: Statuses that say "try again later" rather than "this request is wrong".
RETRY_STATUSES = frozenset({408, 425, 429})
#: Failures of the transport itself, worth another attempt.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    requests.exceptions.Timeout,
    urllib3.exceptions.HTTPError,
)


class HttpError(ArxivcatError, RuntimeError):
    """A request that failed for good, described in one redacted line."""


class Retry(Exception):
    """Raised by a reply handler: the reply is not usable, try again.

    Args:
        problem: What was wrong, for the log (redacted before it is written).
        wait: Seconds to wait before the next attempt; None for the back-off delay.
    """

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.wait = wait


def retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header (delay seconds or an HTTP date) into seconds.

    Args:
        value: The header's value, or None when absent.
        now: The current time (for tests); defaults to the clock.

    Returns:
        The seconds to wait (0 for a date in the past), or None for an absent or unparsable value.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def server_message(body: bytes, limit: int = 300) -> str:
    """Return a server's own explanation from an error body, redacted and shortened.

    JSON bodies give their ``error`` and ``message`` fields (as OpenAlex and most APIs send
    them); other bodies give their text with whitespace collapsed.
    """
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        text = (
            " ".join(str(payload[key]) for key in ("error", "message") if payload.get(key)) or text
        )
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(response: requests.Response) -> str:
    """One line for an HTTP reply: status, reason and the server's message (redacted)."""
    try:
        message = server_message(response.content)
    except TRANSIENT_ERRORS:
        message = ""
    reason = f"HTTP {response.status_code} {response.reason or ''}".strip()
    return f"{reason}: {message}" if message else reason


def shown_url(url: str, params: Mapping[str, Any] | None = None) -> str:
    """The URL of a request with its parameters, redacted (safe for logs and messages)."""
    if params:
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(dict(params), safe=':,|*!<>')}"
    return redact(url)


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries and paces its requests.

    Attributes:
        max_attempts: Requests per call before giving up.
        backoff: Seconds to wait after the first failed attempt; doubled after each.
        max_retry_wait: Longest wait on a server, seconds: back-off stops growing there and a
            ``Retry-After`` beyond it fails the request at once.
        timeout: Connect/read timeout of one request, seconds.
        interval: Minimum seconds between the starts of two requests.
        setting: The config key that sets ``max_retry_wait``, named in the error message.
    """

    max_attempts: int = 6
    backoff: float = 1.0
    max_retry_wait: float = 600.0
    timeout: float = 60.0
    interval: float = 0.0
    setting: str = "max_retry_wait"


class HttpClient:
    """Sends GET requests with retries, a capped ``Retry-After`` and pacing.

    Args:
        session: The ``requests`` session (carries auth, e.g. Kaggle's); a new one when None.
        retry: Attempts, back-off, the cap on server waits, timeout and pacing.
        error: The error class raised for a request that failed for good (the stage's own).
        sleep: The sleep function; ``clock`` the monotonic clock (tests inject fakes).
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        retry: RetryPolicy = RetryPolicy(),
        *,
        error: Callable[[str], Exception] = HttpError,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session or requests.Session()
        self.policy = retry
        self.error = error
        self.sleep = sleep
        self.clock = clock
        #: Requests sent so far (retries included).
        self.requests = 0
        self._last: float | None = None

    def _pace(self) -> None:
        interval = self.policy.interval
        if self._last is not None and interval > 0:
            wait = interval - (self.clock() - self._last)
            if wait > 0:
                self.sleep(wait)
        self._last = self.clock()

    def _server_wait(self, response: requests.Response, shown: str, default: float) -> float:
        asked = retry_after(response.headers.get("Retry-After"))
        if asked is None:
            return default
        cap = self.policy.max_retry_wait
        if asked > cap:
            raise self.error(
                f"{shown}: the server refuses for {asked:.0f} s ({describe(response)}); that is "
                f"longer than {self.policy.setting} ({cap:.0f} s): rerun later"
            )
        return asked

    def get(
        self,
        url: str,
        handle: Callable[[requests.Response], T],
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | Callable[[], Mapping[str, str]] | None = None,
        hint: str = "",
    ) -> T:
        """GET ``url`` until ``handle`` accepts a reply; return what it returns.

        Args:
            url: The URL (credentials in its query string are fine: they are never shown).
            handle: Reads a reply that is not retried here (any status but 408/425/429/5xx);
                the body is streamed, so it may read ``response.raw`` or ``response.content``.
                It raises :class:`Retry` for an unusable reply.
            params: Query parameters added to ``url``.
            headers: Request headers, or a function giving each attempt's headers (a resumed
                download asks for a different range each time).
            hint: Added to the give-up message (what the user can do).

        Raises:
            The client's ``error``: for exhausted attempts or a ``Retry-After`` beyond the cap;
            errors raised by ``handle`` pass through.
        """
        shown = shown_url(url, params)
        delay = min(self.policy.backoff, self.policy.max_retry_wait)
        problem = "no attempt made"
        for attempt in range(1, self.policy.max_attempts + 1):
            self._pace()
            wanted = headers() if callable(headers) else dict(headers or {})
            wait: float | None = None
            try:
                self.requests += 1
                with self.session.get(
                    url,
                    params=params,
                    headers={"User-Agent": USER_AGENT, **wanted},
                    stream=True,
                    timeout=self.policy.timeout,
                ) as response:
                    status = response.status_code
                    if status in RETRY_STATUSES or status >= 500:
                        problem = describe(response)
                        wait = self._server_wait(response, shown, delay)
                    else:
                        return handle(response)
            except Retry as retry:
                problem, wait = redact(str(retry)), retry.wait
            except TRANSIENT_ERRORS as error:
                problem = f"{type(error).__name__}: {redact(str(error))}"
            if attempt == self.policy.max_attempts:
                break
            wait = delay if wait is None else wait
            log.warning(
                "%s: %s (attempt %d/%d); retrying in %.0f s",
                shown, problem, attempt, self.policy.max_attempts, wait,
            )  # fmt: skip
            if wait > 0:
                self.sleep(wait)
            delay = min(delay * 2, self.policy.max_retry_wait)
        raise self.error(
            f"{shown}: giving up after {self.policy.max_attempts} attempts ({problem})"
            + (f"; {hint}" if hint else "")
        )
