"""Mixing weak negatives into a training split: how many, which ones, never an arXiv paper.

Weak negatives are non-arXiv papers (OpenAlex works) added with label 0 to the training split
only. Before sampling, every candidate that is also an arXiv paper is removed: by DOI (the
corpus DOIs and arXiv's own 10.48550/arXiv.* DOIs) and by title, with the record keys of
:mod:`arxivcat.keys` (the weak-negative stage's own duplicate pass uses the same keys).
Candidates without a title are dropped; those with a repeated id or title key are kept once.
The sample is drawn with a seeded generator from the candidates in id order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arxivcat.errors import ArxivcatError
from arxivcat.keys import ARXIV_DOI_PREFIX, doi_keys, every_doi_key, title_keys

LOG = logging.getLogger(__name__)


class WeakMixingError(ArxivcatError, ValueError):
    """Weak negatives that cannot be mixed in as asked."""


def weak_negative_count(n_train: int, share: float) -> int:
    """Number of weak negatives for a training split of ``n_train`` papers: floor(share * n).

    The share is taken at its decimal value (0.1 is exactly one tenth), so there is no
    floating-point rounding: ``weak_negative_count(1_093_647, 0.10) == 109_364``. (The reference
    added 109,363 to 1,093,647 rows; no rounding of 109,364.7 gives that number, so it most
    likely lost one row after sampling.)
    """
    if share < 0:
        raise WeakMixingError(f"weak-negative share must be >= 0, got {share}")
    return int(Fraction(str(share)) * n_train)


@dataclass
class Candidates:
    """The weak-negative candidates left after removing arXiv papers and repeats.

    Attributes:
        table: The remaining candidates, sorted by id.
        offered: Rows in the weak-negative file.
        untitled: Rows removed for having no title.
        arxiv_overlap: Rows removed because they are arXiv papers (by DOI or title).
        repeats: Rows removed as repeated ids or titles.
    """

    table: pa.Table
    offered: int
    untitled: int
    arxiv_overlap: int
    repeats: int


def _first_of_each(values: pa.Array) -> np.ndarray:
    """Mask of the first occurrence of each value (nulls are never repeats)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = pc.sort_indices(values).to_numpy()
    ordered = values.take(pa.array(order))
    same = pc.equal(ordered.slice(1), ordered.slice(0, n - 1)).fill_null(False)
    repeat_sorted = np.concatenate(([False], same.to_numpy(zero_copy_only=False)))
    # Among equal values, the stable sort keeps original order, so the first one is kept.
    keep = np.ones(n, dtype=bool)
    keep[order[repeat_sorted]] = False
    return keep


def clean_candidates(
    weak: pa.Table, corpus_titles: pa.ChunkedArray, corpus_dois: pa.ChunkedArray
) -> Candidates:
    """Remove arXiv papers and repeats from the weak-negative table.

    Args:
        weak: The weak-negative table (id, title, abstract, doi, year, source).
        corpus_titles: Every title of the arXiv corpus (all years, all versions).
        corpus_dois: Every DOI field of the arXiv corpus.
    """
    offered = weak.num_rows
    titled = pc.greater(pc.utf8_length(title_keys(weak["title"])), 0).fill_null(False)
    weak = weak.filter(titled).sort_by([("id", "ascending")])
    titles = title_keys(weak["title"])
    dois = doi_keys(weak["doi"])
    known_titles = pc.unique(title_keys(corpus_titles))
    known_dois = pc.unique(every_doi_key(corpus_dois))
    arxiv = pc.is_in(titles, value_set=known_titles).fill_null(False).to_numpy(
        zero_copy_only=False
    ) | (
        pc.is_in(dois, value_set=known_dois).fill_null(False).to_numpy(zero_copy_only=False)
        | pc.starts_with(dois, ARXIV_DOI_PREFIX).fill_null(False).to_numpy(zero_copy_only=False)
    )
    kept = weak.filter(pa.array(~arxiv))
    kept_titles = titles.filter(pa.array(~arxiv))
    unique = _first_of_each(kept["id"].combine_chunks()) & _first_of_each(kept_titles)
    table = kept.filter(pa.array(unique))
    return Candidates(
        table=table,
        offered=offered,
        untitled=offered - weak.num_rows,
        arxiv_overlap=int(arxiv.sum()),
        repeats=int(kept.num_rows - table.num_rows),
    )


def sample_rows(n_available: int, n_wanted: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``n_wanted`` rows drawn without replacement from ``n_available``."""
    if n_wanted > n_available:
        raise WeakMixingError(f"asked for {n_wanted} rows, only {n_available} available")
    return np.sort(rng.choice(n_available, size=n_wanted, replace=False))
