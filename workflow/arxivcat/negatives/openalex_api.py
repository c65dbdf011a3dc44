"""The OpenAlex API: ``/works`` requests with the key from the environment, and cached pages.

:class:`OpenAlexClient` sends ``/works`` requests through :class:`arxivcat.io.http.HttpClient`
(HTTP 429/5xx, network errors and truncated bodies retried with exponential back-off, a
``Retry-After`` honoured up to ``weak_negatives.openalex.max_retry_wait``; the API key never
shown); :func:`iter_pages` walks repeatable seeded samples or a cursor chain, keeping every page
in a cache directory so that an interrupted fetch resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path
from arxivcat.io.http import HttpClient, Retry, RetryPolicy, describe, shown_url
from arxivcat.negatives.settings import OpenAlexSettings

log = logging.getLogger(__name__)

API_KEY_VARIABLE = "OPENALEX_API_KEY"


class OpenAlexError(ArxivcatError, RuntimeError):
    """An OpenAlex request that failed for good, described in one line."""


def retry_policy(settings: OpenAlexSettings) -> RetryPolicy:
    """The API's retries: ``weak_negatives.openalex`` attempts, timeout and longest wait."""
    return RetryPolicy(
        max_attempts=settings.max_attempts,
        backoff=1.0,
        max_retry_wait=float(settings.max_retry_wait),
        timeout=float(settings.timeout),
        setting="weak_negatives.openalex.max_retry_wait",
    )


class OpenAlexClient:
    """Sends ``/works`` requests with retries.

    Args:
        base_url: API root, e.g. ``https://api.openalex.org``.
        api_key: The API key (sent as ``api_key``; never shown), or None to fail when needed.
        retry: Tries per request on 429, 5xx, network errors and truncated bodies, back-off,
            timeout and the longest wait (:func:`retry_policy`).
        mailto: Optional contact address for the polite pool.
        sleep: Called with the seconds to wait between tries (injectable for tests).
        session: The ``requests`` session.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        retry: RetryPolicy,
        mailto: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.mailto = mailto
        self.http = HttpClient(session, retry, error=OpenAlexError, sleep=sleep)
        self.cost_usd = 0.0

    @property
    def requests(self) -> int:
        """Requests sent so far, retries included."""
        return self.http.requests

    def get(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Fetch one page of works; return it parsed and as the raw body.

        Raises:
            OpenAlexError: No API key, a client error (OpenAlex's message quoted), a
                ``Retry-After`` longer than ``max_retry_wait``, or every try failed.
        """
        if not self.api_key:
            raise OpenAlexError(
                f"{API_KEY_VARIABLE} is not set: the OpenAlex API needs a key (free at "
                "https://openalex.org/settings/api); export it or use a local weak-negative file"
            )
        query = {**params, **({"mailto": self.mailto} if self.mailto else {})}
        query["api_key"] = self.api_key
        url = f"{self.base_url}/works"

        def read(response: requests.Response) -> tuple[dict[str, Any], bytes]:
            body = response.content
            if response.status_code >= 400:
                hint = f" (check {API_KEY_VARIABLE})" if response.status_code in (401, 403) else ""
                raise OpenAlexError(
                    f"OpenAlex rejected {shown_url(url, query)}{hint}: {describe(response)}"
                )
            try:
                page = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                page = None
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise Retry("truncated or malformed response body")
            self._account(page, response.headers)
            return page, body

        return self.http.get(url, read, params=query, hint="fetched pages are kept for a rerun")

    def _account(self, page: dict[str, Any], headers: Mapping[str, str]) -> None:
        cost = (page.get("meta") or {}).get("cost_usd")
        if isinstance(cost, int | float):
            self.cost_usd += float(cost)
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None and self.requests % 50 == 1:
            log.info(
                "OpenAlex rate limit: %s requests left (%s USD left)",
                remaining,
                headers.get("x-ratelimit-remaining-usd") or "?",
            )


def works_filter(concepts: list[str], min_year: int) -> str:
    """Return the ``filter`` value: any of ``concepts``, published from ``min_year``, abstract."""
    return ",".join(
        [
            f"concepts.id:{'|'.join(concepts)}",
            f"publication_year:>{min_year - 1}",
            "has_abstract:true",
        ]
    )


class PageCache:
    """API pages of one query kept on disk, numbered by request, so a rerun resumes.

    The directory is named after a hash of the query (base URL, filter, mode, page size and, for
    samples, the first seed; never the API key).  A cursor walk's position is the
    ``next_cursor`` of its last cached page.
    """

    def __init__(self, root: str | Path, query: Mapping[str, Any]) -> None:
        key = hashlib.sha256(json.dumps(dict(query), sort_keys=True).encode()).hexdigest()[:16]
        self.directory = Path(root) / "openalex" / key
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "query.json").write_text(
            json.dumps(dict(query), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )

    def _path(self, index: int) -> Path:
        return self.directory / f"page-{index:06d}.json"

    def load(self, index: int) -> dict[str, Any] | None:
        """Return cached page ``index``, or None (also for an unreadable leftover)."""
        path = self._path(index)
        if not path.is_file():
            return None
        try:
            page = json.loads(path.read_bytes())
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("ignoring unreadable cached page %s", path)
            return None
        return page if isinstance(page, dict) else None

    def store(self, index: int, body: bytes) -> None:
        """Keep the raw body of page ``index`` (written under a temporary name, then renamed)."""
        with atomic_path(self._path(index)) as partial:
            partial.write_bytes(body)


def iter_pages(
    client: OpenAlexClient,
    cache: PageCache,
    filter_value: str,
    mode: str,
    per_page: int,
    seed: int,
) -> Iterator[dict[str, Any]]:
    """Yield pages of works, cached ones first, until the source has no more.

    ``sample`` mode asks for a fresh seeded sample of ``per_page`` works per request (seed,
    seed + 1, ...; samples cannot be cursor-paged) and never ends by itself: the caller stops
    it.  ``cursor`` mode follows ``meta.next_cursor`` and ends on a page with no results or no
    next cursor (the last non-empty page may still carry a cursor).
    """
    cursor = "*"
    index = 0
    while True:
        params: dict[str, Any] = {"filter": filter_value, "per_page": per_page}
        if mode == "sample":
            params.update(sample=per_page, seed=seed + index)
        else:
            params["cursor"] = cursor
        page = cache.load(index)
        if page is None:
            page, body = client.get(params)
            cache.store(index, body)
        yield page
        results = page.get("results") or []
        if mode == "sample":
            if not results:
                return
        else:
            next_cursor = (page.get("meta") or {}).get("next_cursor")
            if not results or not next_cursor:
                return
            cursor = next_cursor
        index += 1
