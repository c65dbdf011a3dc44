"""Settings of the weak-negative stage: the ``weak_negatives`` block of the config.

Keys, meanings and defaults are those of ``config/schema.yaml``; the rule passes the validated
block and the stage builds :class:`WeakNegativeSettings` from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from arxivcat.stage_settings import StageSettings


@dataclass(frozen=True)
class OpenAlexSettings(StageSettings):
    """``weak_negatives.openalex``: the OpenAlex API source (the key comes from the environment).

    Attributes:
        concepts: Level-0 concept ids a work must carry (any of them).
        count: Weak negatives to collect, after filtering.
        per_page: Works per request.
        seed: First seed of the repeatable samples (request i uses seed + i).
        mode: ``sample`` (seeded random samples) or ``cursor`` (cursor paging).
        base_url: The API root.
        mailto: Contact address for OpenAlex's polite pool, or None.
        max_attempts: Tries per request on HTTP 429/5xx and network errors.
        timeout: Seconds to wait for one response.
        max_retry_wait: Longest Retry-After honoured, in seconds; a longer one fails the fetch.
    """

    concepts: tuple[str, ...]
    count: int
    per_page: int
    seed: int
    mode: str
    base_url: str
    mailto: str | None
    max_attempts: int
    timeout: float
    max_retry_wait: float


@dataclass(frozen=True)
class WeakNegativeSettings(StageSettings):
    """``weak_negatives``: where weak negatives come from.

    Attributes:
        source: ``openalex``, or a local path (file, directory or glob).
        min_year: Works published before this year are dropped.
        openalex: The API source's settings.
    """

    source: str
    min_year: int
    openalex: OpenAlexSettings
