"""The OpenAlex source of weak negatives: API pages judged until ``count`` rows are kept.

:func:`collect_openalex` walks the pages of :func:`arxivcat.negatives.openalex_api.iter_pages`
(seeded samples or a cursor chain, cached), judges each work with the stage's filter
(:mod:`arxivcat.negatives.filtering`) and stops when ``count`` rows are kept, when the source
runs out, or when its page budget is spent (an error: the filters dropped nearly everything).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arxivcat.io.publish import utc_timestamp
from arxivcat.negatives.filtering import WeakNegativeError, WeakNegativeFilter
from arxivcat.negatives.openalex_api import (
    API_KEY_VARIABLE,
    OpenAlexClient,
    PageCache,
    iter_pages,
    retry_policy,
    works_filter,
)
from arxivcat.negatives.settings import OpenAlexSettings, WeakNegativeSettings

log = logging.getLogger(__name__)


@dataclass
class _Collected:
    """The weak negatives kept so far from OpenAlex pages, and what the manifest counts.

    Attributes:
        count: Rows wanted.
        keep: The filter that judges each work (it drops repeats across pages).
        rows: The rows kept, at most ``count``.
        seen_ids: Ids of the works read, to tell a sample that brought nothing new.
        pages: Pages read.
        read: Works judged.
        stale: Pages in a row that brought no work not seen before.
    """

    count: int
    keep: WeakNegativeFilter
    rows: list[dict[str, Any]] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    pages: int = 0
    read: int = 0
    stale: int = 0

    @property
    def full(self) -> bool:
        """Whether ``count`` rows are kept."""
        return len(self.rows) >= self.count

    def add_page(self, works: list[dict[str, Any]]) -> None:
        """Judge one page's works in turn, until ``count`` rows are kept."""
        self.pages += 1
        new = 0
        judged = self.keep.rows(works, default_source="openalex")
        for work in works:
            if self.full:
                break
            self.read += 1
            work_id = str(work.get("id"))
            new += work_id not in self.seen_ids
            self.seen_ids.add(work_id)
            row = next(judged)
            if row is not None:
                self.rows.append(row)
        self.stale = 0 if new else self.stale + 1

    def read_pages(self, pages: Iterable[dict[str, Any]], max_stale: int, max_pages: int) -> str:
        """Add ``pages`` until ``count`` rows are kept or the source runs out; say which.

        Raises:
            WeakNegativeError: ``max_pages`` pages were read first.
        """
        for page in pages:
            self.add_page(list(page.get("results") or ()))
            if self.pages % 10 == 0:
                log.info(
                    "%d pages, %d works read, %d of %d kept",
                    self.pages,
                    self.read,
                    len(self.rows),
                    self.count,
                )
            if self.full:
                return "count reached"
            if self.stale >= max_stale:
                return f"{self.stale} samples in a row brought no new work"
            if self.pages >= max_pages:
                # Not an exhausted source: the filters dropped nearly everything.  A short table
                # here would look complete, so fail (fetched pages stay cached).
                raise WeakNegativeError(
                    f"weak_negatives.openalex: only {len(self.rows)} of {self.count} works kept "
                    f"after {self.pages} pages (dropped: {dict(self.keep.dropped)}); check "
                    "concepts and min_year"
                )
        return "source exhausted"


def _openalex_facts(
    api: OpenAlexSettings,
    client: OpenAlexClient,
    filter_value: str,
    collected: _Collected,
    stopped: str,
    min_year: int,
) -> dict[str, Any]:
    """The manifest's facts about an OpenAlex fetch."""
    return {
        "source": "openalex",
        "retrieved": utc_timestamp(),
        "base_url": client.base_url,
        "filter": filter_value,
        "mode": api.mode,
        "per_page": api.per_page,
        "seeds": [api.seed, api.seed + collected.pages - 1] if api.mode == "sample" else None,
        "requested": api.count,
        "exhausted": not collected.full,
        "stopped": stopped,
        "pages": collected.pages,
        "requests": client.requests,
        "cost_usd": round(client.cost_usd, 6),
        "records_read": collected.read,
        "dropped": dict(collected.keep.dropped),
        "min_year": min_year,
    }


def _log_outcome(collected: _Collected, client: OpenAlexClient, stopped: str) -> None:
    """Log what a fetch kept, with a warning when the source ran out before ``count``."""
    rows = collected.rows
    if not collected.full:
        log.warning(
            "the source ran out: %d of the %d weak negatives asked for (%s)",
            len(rows),
            collected.count,
            stopped,
        )
    log.info(
        "kept %d of %d works from %d pages (%d requests, %.4f USD; dropped: %s)",
        len(rows),
        collected.read,
        collected.pages,
        client.requests,
        client.cost_usd,
        dict(collected.keep.dropped) or "none",
    )


def collect_openalex(
    settings: WeakNegativeSettings,
    cache_dir: str | Path,
    sleep: Callable[[float], None] = time.sleep,
    max_stale_pages: int = 5,
    max_pages: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Fetch weak negatives from the OpenAlex API; return the rows with manifest facts.

    Pages are read until ``count`` rows are kept, the cursor chain ends, or (sample mode)
    ``max_stale_pages`` samples in a row bring no work not seen before, i.e. the filtered
    population is smaller than ``count``: then every work there is is kept, the manifest says
    ``exhausted``.  Reading is bounded by a page budget (ten times what ``count`` needs without
    filtering); spending it is an error.

    Args:
        settings: The ``weak_negatives`` settings.
        cache_dir: Root of the page cache.
        sleep: The sleep function between retries (tests inject a fake one).
        max_stale_pages: Sample pages without new works after which the population counts as
            exhausted.
        max_pages: The page budget; None for ten times the pages ``count`` needs, plus ten.

    Raises:
        arxivcat.negatives.openalex_api.OpenAlexError: A request failed for good or no API key.
        WeakNegativeError: The page budget was spent before ``count`` rows were kept.
    """
    api = settings.openalex
    filter_value = works_filter(list(api.concepts), settings.min_year)
    api_key = os.environ.get(API_KEY_VARIABLE) or None
    client = OpenAlexClient(api.base_url, api_key, retry_policy(api), api.mailto, sleep)
    query = {
        "base_url": client.base_url,
        "filter": filter_value,
        "mode": api.mode,
        "per_page": api.per_page,
    }
    if api.mode == "sample":
        query["seed"] = api.seed
    cache = PageCache(cache_dir, query)
    # Filtering drops a share of each page; ten times the pages of a perfect run is plenty.
    if max_pages is None:
        max_pages = 10 * -(-api.count // api.per_page) + 10
    collected = _Collected(api.count, WeakNegativeFilter(settings.min_year))
    log.info(
        "fetching %d OpenAlex weak negatives (%s mode, filter %s)",
        api.count,
        api.mode,
        filter_value,
    )
    pages = iter_pages(client, cache, filter_value, api.mode, api.per_page, api.seed)
    stopped = collected.read_pages(pages, max_stale_pages, max_pages)
    _log_outcome(collected, client, stopped)
    facts = _openalex_facts(api, client, filter_value, collected, stopped, settings.min_year)
    return collected.rows, facts
