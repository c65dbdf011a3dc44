"""Which records become weak-negative rows: the filters and the duplicate pass.

Rows without a title or an abstract are dropped, works from before ``min_year`` are dropped
(rows of unknown year are kept), OpenAlex works on arXiv or in computer science are dropped, and
duplicates (same id, same DOI key or same title key, see :mod:`arxivcat.keys`) are dropped, the
first one kept.  The keys are the splits stage's, so a weak negative this pass keeps is never a
repeat there.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from arxivcat.errors import ArxivcatError
from arxivcat.keys import clean_doi, doi_keys, title_keys
from arxivcat.negatives.openalex_works import (
    is_arxiv,
    is_computer_science,
    is_work,
    work_row,
)


class WeakNegativeError(ArxivcatError, ValueError):
    """A weak-negative source problem, described in one line."""


def plain_row(record: dict[str, Any], default_source: str = "local") -> dict[str, Any]:
    """Return the row of a plain ``{title, abstract, ...}`` record (id ``""`` if it has none)."""
    title = " ".join(str(record.get("title") or "").split())
    year = record.get("year", record.get("publication_year"))
    source = record.get("source")
    return {
        "id": str(record.get("id") or "").strip(),
        "title": title,
        "abstract": " ".join(str(record.get("abstract") or "").split()),
        "doi": clean_doi(record.get("doi")),
        "year": int(year) if year not in (None, "") else None,
        "source": source if isinstance(source, str) and source else default_source,
    }


class WeakNegativeFilter:
    """Turns records into weak-negative rows, applying the filters and dropping duplicates.

    Attributes:
        min_year: Rows with a known year before this are dropped.
        dropped: How many records were dropped, by reason.
    """

    def __init__(self, min_year: int) -> None:
        self.min_year = min_year
        self.dropped: Counter[str] = Counter()
        self._ids: set[str] = set()
        self._dois: set[str] = set()
        self._titles: set[str] = set()

    def rows(
        self, records: Sequence[dict[str, Any]], default_source: str = "local"
    ) -> Iterator[dict[str, Any] | None]:
        """Yield, for each record in turn, its row if it is a new, acceptable weak negative.

        The keys of the whole batch are computed at once; each record is judged (and counted)
        only when its turn comes, so a caller may stop early.  A plain record without an id gets
        ``local:`` plus a hash of its title key.
        """
        candidates = [self._candidate(record, default_source) for record in records]
        rows = [row or {"title": None, "doi": None} for row, _ in candidates]
        titles = title_keys(pa.array([row["title"] for row in rows], pa.string())).to_pylist()
        dois = doi_keys(pa.array([row["doi"] for row in rows], pa.string())).to_pylist()
        for (row, reason), title_key, doi_key in zip(candidates, titles, dois, strict=True):
            yield self._judge(row, reason, title_key, doi_key)

    def _candidate(
        self, record: dict[str, Any], default_source: str
    ) -> tuple[dict[str, Any] | None, str | None]:
        """The record's row, or None and the reason an OpenAlex work is not one."""
        if is_work(record):
            if is_arxiv(record):
                return None, "on arXiv"
            if is_computer_science(record):
                return None, "computer science"
            return work_row(record), None
        return plain_row(record, default_source), None

    def _judge(
        self,
        row: dict[str, Any] | None,
        reason: str | None,
        title_key: str,
        doi_key: str | None,
    ) -> dict[str, Any] | None:
        if row is None:
            self.dropped[str(reason)] += 1
            return None
        if not row["title"] or not row["abstract"]:
            self.dropped["no title or abstract"] += 1
            return None
        if row["year"] is not None and row["year"] < self.min_year:
            self.dropped[f"published before {self.min_year}"] += 1
            return None
        if not row["id"]:
            row["id"] = f"local:{hashlib.sha1(title_key.encode('utf-8')).hexdigest()[:16]}"
        repeated_doi = doi_key is not None and doi_key in self._dois
        if row["id"] in self._ids or repeated_doi or title_key in self._titles:
            self.dropped["duplicate"] += 1
            return None
        self._ids.add(row["id"])
        if doi_key is not None:
            self._dois.add(doi_key)
        self._titles.add(title_key)
        return row
