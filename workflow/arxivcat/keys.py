"""Record keys: when two records are the same paper, by title or by DOI.

Both duplicate passes use these keys: the weak-negative stage
(:mod:`arxivcat.negatives.prepare_weak_negatives`) when it drops repeated works, and the splits
stage (:mod:`arxivcat.splits.weak_mixing`) when it removes weak negatives that are arXiv papers or
repeats.  So the two agree on what "the same paper" is.

- Title key: NFKC, lower case, ASCII punctuation and spaces removed (``"Deep  Nets."`` and
  ``"deep-nets"`` match; non-ASCII letters such as ``é`` stay, so ``Café`` is not ``Cafe``).
- Clean DOI (:func:`clean_doi`, what a weak-negative row stores): trimmed, without a resolver
  prefix in any case (``https://doi.org/``, ``http://dx.doi.org/``, ``doi:``), lower case.
- DOI key: the first DOI of the cleaned field (DOIs are separated by whitespace); a field holding
  several DOIs has one key per DOI (:func:`every_doi_key`), each cleaned the same way.

Keys are computed on Arrow arrays, vectorised; one call costs about a millisecond whatever its
size up to thousands of records, so callers batch.  :func:`clean_doi` cleans one value (for rows
built one at a time) with the same vectorised steps.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: DOI prefix of arXiv-minted DOIs, as a DOI key starts (lower case).
ARXIV_DOI_PREFIX = "10.48550/arxiv."
# A DOI resolver prefix, matched in any case.
_DOI_PREFIX = r"(?i)^(?:https?://(?:dx\.)?doi\.org/|doi:)"

# Bytes kept by the title key: ASCII digits and lower-case letters, and every byte of a
# multi-byte UTF-8 character (non-ASCII letters such as é stay; ASCII punctuation and spaces go).
_KEEP_BYTE = np.zeros(256, dtype=bool)
_KEEP_BYTE[list(b"0123456789abcdefghijklmnopqrstuvwxyz")] = True
_KEEP_BYTE[0x80:] = True
_TITLE_SLICE = 1 << 17


def title_keys(titles: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The title key of each title (NFKC, lower case, ASCII punctuation and spaces removed).

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


def clean_doi(value: object) -> str | None:
    """Return a DOI trimmed, without its resolver prefix and lower case; None when empty."""
    if not value:
        return None
    return _clean_dois(pa.array([str(value)], pa.string()))[0].as_py() or None


def _clean_dois(dois: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`clean_doi` of each value, vectorised ("" where it gives None; nulls stay null)."""
    trimmed = pc.utf8_trim_whitespace(dois.cast(pa.string()))
    bare = pc.replace_substring_regex(trimmed, pattern=_DOI_PREFIX, replacement="")
    return pc.utf8_lower(pc.utf8_trim_whitespace(bare))


def doi_keys(dois: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One DOI key per row (that of the field's first DOI); null where the field has none."""
    keys = pc.replace_substring_regex(_clean_dois(dois), pattern=r"\s.*$", replacement="")
    keys = pc.if_else(pc.greater(pc.utf8_length(keys), 0), keys, pa.scalar(None, pa.string()))
    return keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys


def every_doi_key(dois: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The DOI keys of every DOI in the fields, flat (a field may hold several; nulls dropped)."""
    parts = _clean_dois(pc.list_flatten(pc.utf8_split_whitespace(dois.cast(pa.string()))))
    parts = pc.filter(parts, pc.greater(pc.utf8_length(parts), 0))
    return parts.combine_chunks() if isinstance(parts, pa.ChunkedArray) else parts
