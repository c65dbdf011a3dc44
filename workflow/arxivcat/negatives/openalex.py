"""OpenAlex works: reading work objects, and fetching them from the API.

Reading: abstracts, identifiers, and the arXiv and CS tests.
OpenAlex delivers works as JSON objects (API responses and S3 snapshot parts).  Abstracts come
only as an inverted index (word -> positions), wrapped as ``{"IndexLength": n, "InvertedIndex":
{...}}`` in old snapshot parts.  The tests here follow what the real data show (see
``shared/data/openalex/PROVENANCE.md``): a level-0 "Computer science" concept is attached with a low
score to many non-CS works, so the CS test uses the top-scoring level-0 concept and the primary
topic's field; arXiv shows up as a location on source S4306400194, ``indexed_in`` containing
"arxiv", or a DataCite arXiv DOI, and these signals disagree, so any one of them counts.

Fetching: :class:`OpenAlexClient` sends one ``/works`` request with the API key from the
environment, retrying HTTP 429/5xx and network errors with exponential backoff (honouring
``Retry-After``); :func:`iter_pages` walks repeatable seeded samples or a cursor chain, keeping
every page in a cache directory so that an interrupted fetch resumes where it stopped.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path

log = logging.getLogger(__name__)

OPENALEX_PREFIX = "https://openalex.org/"

#: Level-0 concept ids (as found in the data) by display name.
LEVEL0_CONCEPTS: dict[str, str] = {
    "Art": "C142362112",
    "Biology": "C86803240",
    "Business": "C144133560",
    "Chemistry": "C185592680",
    "Computer science": "C41008148",
    "Economics": "C162324750",
    "Engineering": "C127413603",
    "Environmental science": "C39432304",
    "Geography": "C205649164",
    "Geology": "C127313418",
    "History": "C95457728",
    "Materials science": "C192562407",
    "Mathematics": "C33923547",
    "Medicine": "C71924100",
    "Philosophy": "C138885662",
    "Physics": "C121332964",
    "Political science": "C17744445",
    "Psychology": "C15744967",
    "Sociology": "C144024400",
}

COMPUTER_SCIENCE_CONCEPT = LEVEL0_CONCEPTS["Computer science"]
COMPUTER_SCIENCE_FIELD = "fields/17"
ARXIV_SOURCE = "S4306400194"
_ARXIV_DOI_PREFIX = "10.48550/arxiv."
_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.IGNORECASE)


def short_id(value: Any) -> str:
    """Return an OpenAlex id without its ``https://openalex.org/`` prefix (``W123``)."""
    return str(value or "").strip().removeprefix(OPENALEX_PREFIX)


def normalize_doi(value: Any) -> str | None:
    """Return a DOI lower-cased without resolver prefix, or None when empty."""
    if not value:
        return None
    doi = _DOI_PREFIX.sub("", str(value).strip()).strip().lower()
    return doi or None


def inverted_index_words(index: Any) -> dict[str, list[int]] | None:
    """Return the word -> positions mapping of an ``abstract_inverted_index`` value.

    Accepts the API's plain mapping, the legacy snapshot's ``{"IndexLength", "InvertedIndex"}``
    wrapper, and either of them serialised as a JSON string (as parquet exports hold it).
    """
    if index is None:
        return None
    if isinstance(index, str):
        try:
            index = json.loads(index)
        except json.JSONDecodeError:
            return None
    if not isinstance(index, dict):
        return None
    if "InvertedIndex" in index and isinstance(index["InvertedIndex"], dict):
        index = index["InvertedIndex"]
    return index


def rebuild_abstract(index: Any) -> str:
    """Rebuild an abstract from an inverted index, words ordered by position.

    Positions need not be contiguous (real indexes have gaps); missing positions are skipped.
    Whitespace is collapsed.  An absent or empty index gives the empty string.
    """
    words = inverted_index_words(index)
    if not words:
        return ""
    placed: list[tuple[int, str]] = []
    for word, positions in words.items():
        if isinstance(positions, int):
            positions = [positions]
        for position in positions or ():
            placed.append((int(position), str(word)))
    placed.sort(key=lambda item: item[0])
    return " ".join(" ".join(word for _, word in placed).split())


def is_work(record: dict[str, Any]) -> bool:
    """Whether a record looks like an OpenAlex work (rather than a plain title/abstract row)."""
    return "abstract_inverted_index" in record or short_id(record.get("id")).startswith("W")


def is_arxiv(work: dict[str, Any]) -> bool:
    """Whether a work is on arXiv: an arXiv location, ``indexed_in`` arxiv, or an arXiv DOI.

    Sources whose names merely contain "arxiv" (PsyArXiv, SocArXiv, ...) are different servers
    and do not count.
    """
    doi = normalize_doi(work.get("doi")) or ""
    if doi.startswith(_ARXIV_DOI_PREFIX):
        return True
    ids = work.get("ids") or {}
    if isinstance(ids, dict) and (normalize_doi(ids.get("doi")) or "").startswith(
        _ARXIV_DOI_PREFIX
    ):
        return True
    if any(str(entry).lower() == "arxiv" for entry in work.get("indexed_in") or ()):
        return True
    locations = list(work.get("locations") or ())
    for key in ("primary_location", "best_oa_location"):
        if work.get(key):
            locations.append(work[key])
    for location in locations:
        source = (location or {}).get("source") or {}
        if short_id(source.get("id")) == ARXIV_SOURCE:
            return True
    return False


def top_level0_concept(work: dict[str, Any]) -> str | None:
    """Return the short id of the work's highest-scoring level-0 concept, or None."""
    best: tuple[float, str] | None = None
    for concept in work.get("concepts") or ():
        if not isinstance(concept, dict) or concept.get("level") != 0:
            continue
        score = float(concept.get("score") or 0.0)
        if best is None or score > best[0]:
            best = (score, short_id(concept.get("id")))
    return best[1] if best else None


def is_computer_science(work: dict[str, Any]) -> bool:
    """Whether a work is computer science: top level-0 concept CS, or primary topic field 17."""
    if top_level0_concept(work) == COMPUTER_SCIENCE_CONCEPT:
        return True
    topic = work.get("primary_topic") or {}
    field = (topic.get("field") or {}) if isinstance(topic, dict) else {}
    return short_id(field.get("id")) == COMPUTER_SCIENCE_FIELD


def work_row(work: dict[str, Any]) -> dict[str, Any]:
    """Return the weak-negative row of an OpenAlex work (title and abstract may be empty)."""
    year = work.get("publication_year")
    return {
        "id": short_id(work.get("id")),
        "title": " ".join(str(work.get("title") or work.get("display_name") or "").split()),
        "abstract": rebuild_abstract(work.get("abstract_inverted_index")),
        "doi": normalize_doi(work.get("doi")),
        "year": int(year) if year not in (None, "") else None,
        "source": "openalex",
    }


API_KEY_VARIABLE = "OPENALEX_API_KEY"

#: An HTTP GET: (url, timeout) -> (status, headers, body).
Opener = Callable[[str, float], tuple[int, Mapping[str, str], bytes]]


class OpenAlexError(ArxivcatError, RuntimeError):
    """An OpenAlex request that failed for good, described in one line."""


def http_get(url: str, timeout: float) -> tuple[int, Mapping[str, str], bytes]:
    """GET ``url`` and return status, headers and body, for error statuses too."""
    request = urllib.request.Request(url, headers={"User-Agent": "arxivcat", "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Return the wait a ``Retry-After`` header asks for (seconds or an HTTP date), or None."""
    value = _header(headers, "Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def error_message(body: bytes, limit: int = 400) -> str:
    """Return OpenAlex's own explanation from an error body (its ``message``), shortened."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        payload = None
    if isinstance(payload, dict):
        parts = [str(payload[key]) for key in ("error", "message") if payload.get(key)]
        text = " ".join(parts) or text
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class OpenAlexClient:
    """Sends ``/works`` requests with retries.

    Args:
        base_url: API root, e.g. ``https://api.openalex.org``.
        api_key: The API key (sent as ``api_key``; never logged), or None to fail when needed.
        mailto: Optional contact address for the polite pool.
        max_attempts: Tries per request on 429, 5xx, network errors and truncated bodies.
        timeout: Seconds to wait for a response.
        sleep: Called with the seconds to wait between tries (injectable for tests).
        opener: Performs the GET (injectable for tests).
        backoff: First wait in seconds; doubled after each failed try.
        max_wait: Longest wait; a ``Retry-After`` beyond it fails the request instead of waiting.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        mailto: str | None = None,
        max_attempts: int = 6,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        opener: Opener = http_get,
        backoff: float = 1.0,
        max_wait: float = 300.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.mailto = mailto
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.sleep = sleep
        self.opener = opener
        self.backoff = backoff
        self.max_wait = max_wait
        self.requests = 0
        self.cost_usd = 0.0

    def url(self, params: Mapping[str, Any], redact: bool = False) -> str:
        """Return the request URL for ``params``; ``redact`` leaves the API key out."""
        query = dict(params)
        if self.mailto:
            query["mailto"] = self.mailto
        if self.api_key and not redact:
            query["api_key"] = self.api_key
        return f"{self.base_url}/works?{urllib.parse.urlencode(query, safe=':,|*!<>')}"

    def get(self, params: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Fetch one page of works; return it parsed and as the raw body.

        Raises:
            OpenAlexError: No API key, a client error (OpenAlex's message quoted), a
                ``Retry-After`` longer than ``max_wait``, or every try failed.
        """
        if not self.api_key:
            raise OpenAlexError(
                f"{API_KEY_VARIABLE} is not set: the OpenAlex API needs a key (free at "
                "https://openalex.org/settings/api); export it or use a local weak-negative file"
            )
        shown = self.url(params, redact=True)
        problem = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            wait = self.backoff * 2 ** (attempt - 1)
            try:
                status, headers, body = self.opener(self.url(params), self.timeout)
            except (OSError, http.client.HTTPException) as error:
                status, headers, body = 0, {}, b""
                problem = f"network error: {getattr(error, 'reason', error)}"
            self.requests += 1
            if status == 200:
                try:
                    page = json.loads(body)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    page = None
                if isinstance(page, dict) and isinstance(page.get("results"), list):
                    self._account(page, headers)
                    return page, body
                problem = "truncated or malformed response body"
            elif status == 429 or status >= 500:
                problem = f"HTTP {status}: {error_message(body, 200)}"
                asked = retry_after_seconds(headers)
                if asked is not None:
                    if asked > self.max_wait:
                        raise OpenAlexError(
                            f"OpenAlex asks to wait {asked:.0f} s before {shown} ({problem}; "
                            "rate limit exhausted?); rerun later, fetched pages are kept"
                        )
                    wait = asked
            elif status:
                hint = f" (check {API_KEY_VARIABLE})" if status in (401, 403) else ""
                raise OpenAlexError(
                    f"OpenAlex rejected {shown} (HTTP {status}){hint}: {error_message(body)}"
                )
            if attempt < self.max_attempts:
                wait = min(wait, self.max_wait)
                log.warning(
                    "try %d/%d of %s failed (%s); retrying in %.1f s",
                    attempt,
                    self.max_attempts,
                    shown,
                    problem,
                    wait,
                )
                self.sleep(wait)
        raise OpenAlexError(f"gave up on {shown} after {self.max_attempts} tries: {problem}")

    def _account(self, page: dict[str, Any], headers: Mapping[str, str]) -> None:
        cost = (page.get("meta") or {}).get("cost_usd")
        if isinstance(cost, int | float):
            self.cost_usd += float(cost)
        remaining = _header(headers, "x-ratelimit-remaining")
        if remaining is not None and self.requests % 50 == 1:
            log.info(
                "OpenAlex rate limit: %s requests left (%s USD left)",
                remaining,
                _header(headers, "x-ratelimit-remaining-usd") or "?",
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
