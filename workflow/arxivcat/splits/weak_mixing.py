"""Mixing weak negatives into a training split: how many, which ones, never an arXiv paper.

Weak negatives are non-arXiv papers (OpenAlex works) added with label 0 to the training split
only. Before sampling, every candidate that is also an arXiv paper is removed: by DOI (the
corpus DOIs and arXiv's own 10.48550/arXiv.* DOIs) and by normalized title (NFKC, case, ASCII
punctuation and spaces ignored). Candidates without a title are dropped; those with a
repeated id or normalized title are kept once. The sample is drawn with a seeded generator
from the candidates in id order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arxivcat.errors import ArxivcatError

LOG = logging.getLogger(__name__)

#: DOI prefix of arXiv-minted DOIs (lower case).
ARXIV_DOI_PREFIX = "10.48550/arxiv."
_DOI_URL_PREFIX = r"^(?:https?://(?:dx\.)?doi\.org/|doi:)"


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


# Bytes kept by title normalization: ASCII digits and lower-case letters, and every byte of a
# multi-byte UTF-8 character (non-ASCII letters such as é stay; ASCII punctuation and spaces go).
_KEEP_BYTE = np.zeros(256, dtype=bool)
_KEEP_BYTE[list(b"0123456789abcdefghijklmnopqrstuvwxyz")] = True
_KEEP_BYTE[0x80:] = True
_TITLE_SLICE = 1 << 17


def normalize_titles(titles: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Titles reduced to a matching key: NFKC, lower case, ASCII punctuation and spaces removed.

    Vectorised over the UTF-8 bytes, in slices to bound memory (a regular expression is about
    twice as slow on a million titles). Null titles give empty keys.
    """
    if isinstance(titles, pa.ChunkedArray):
        titles = titles.combine_chunks()
    folded = pc.utf8_lower(pc.utf8_normalize(titles.cast(pa.string()), "NFKC")).fill_null("")
    if len(folded) <= _TITLE_SLICE:
        return _strip_title_bytes(folded)
    parts = [
        _strip_title_bytes(folded.slice(start, _TITLE_SLICE))
        for start in range(0, len(folded), _TITLE_SLICE)
    ]
    return pa.concat_arrays(parts)


def _strip_title_bytes(folded: pa.Array) -> pa.Array:
    """Drop the bytes :data:`_KEEP_BYTE` rejects from each string of a null-free string array."""
    n = len(folded)
    offsets = np.frombuffer(folded.buffers()[1], dtype=np.int32)[folded.offset :][: n + 1]
    if n == 0 or offsets[-1] == offsets[0]:
        return pa.array([""] * n, pa.string())
    data = np.frombuffer(folded.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    keep = _KEEP_BYTE[data]
    kept_before = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum(keep, dtype=np.int32, out=kept_before[1:])
    new_offsets = kept_before[offsets - offsets[0]]
    return pa.StringArray.from_buffers(n, pa.py_buffer(new_offsets), pa.py_buffer(data[keep]))


def normalize_dois(dois: pa.Array | pa.ChunkedArray) -> pa.Array:
    """DOIs in lower case without a resolver prefix; several DOIs in one field become separate.

    Returns a flat array of every DOI found (nulls and empties dropped).
    """
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(dois))
    parts = pc.list_flatten(pc.utf8_split_whitespace(lowered))
    parts = pc.replace_substring_regex(parts, pattern=_DOI_URL_PREFIX, replacement="")
    return pc.filter(parts, pc.greater(pc.utf8_length(parts), 0))


def normalize_doi_column(dois: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One normalized DOI per row (the field's first DOI), null where there is none."""
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(dois))
    first = pc.replace_substring_regex(lowered, pattern=r"\s.*$", replacement="")
    return pc.replace_substring_regex(first, pattern=_DOI_URL_PREFIX, replacement="")


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
    titled = pc.greater(pc.utf8_length(normalize_titles(weak["title"])), 0).fill_null(False)
    weak = weak.filter(titled).sort_by([("id", "ascending")])
    titles = normalize_titles(weak["title"])
    dois = normalize_doi_column(weak["doi"]).combine_chunks()
    known_titles = pc.unique(normalize_titles(corpus_titles))
    known_dois = pc.unique(normalize_dois(corpus_dois))
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
