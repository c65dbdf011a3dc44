"""Multi-head experiments: which papers are positive for each head, as one boolean matrix.

An experiment with ``heads`` asks several binary questions of one model: each head is a name and
a category set, positive when the paper meets the set as ``label_mode`` says (as ``labels`` asks
for a binary experiment).  ``heads: every-category`` asks for one head per arXiv category with at
least ``min_head_positives`` positive training papers, each head named after its category.

The matrix (papers x heads) is built from Arrow's flattened category lists with NumPy, never from
Python lists per paper: 150 heads over 1.2M papers is 180 MB of booleans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: The ``heads`` value that asks for one head per category with enough training positives.
EVERY_CATEGORY = "every-category"


def _category_codes(
    categories: pa.ChunkedArray | pa.Array, primary: pa.ChunkedArray | pa.Array, label_mode: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The category names, and for each (paper, category) pair its paper row and category code.

    With ``label_mode`` ``primary`` only the primary category of each paper is paired.
    """
    if label_mode == "primary":
        if isinstance(primary, pa.ChunkedArray):
            primary = primary.combine_chunks()
        rows = np.flatnonzero(primary.is_valid().to_numpy(zero_copy_only=False))
        values = primary.filter(primary.is_valid())
    else:
        if isinstance(categories, pa.ChunkedArray):
            categories = categories.combine_chunks()
        rows = pc.list_parent_indices(categories).to_numpy()
        values = pc.list_flatten(categories)
    encoded = pc.dictionary_encode(values)
    names = encoded.dictionary.to_pylist()
    return names, rows, encoded.indices.to_numpy(zero_copy_only=False)


def head_matrix(
    categories: pa.ChunkedArray | pa.Array,
    primary: pa.ChunkedArray | pa.Array,
    heads: Mapping[str, Sequence[str]],
    label_mode: str = "any",
) -> np.ndarray:
    """Whether each paper is a positive of each head: a ``[papers, heads]`` boolean matrix.

    Args:
        categories: Each paper's categories (canonical names).
        primary: Each paper's primary category.
        heads: Head name to its category set, in the matrix's column order.
        label_mode: ``any`` (any category in a head's set) or ``primary``.
    """
    names, rows, codes = _category_codes(categories, primary, label_mode)
    index = {name: code for code, name in enumerate(names)}
    member = np.zeros((len(names), len(heads)), dtype=bool)
    for column, labels in enumerate(heads.values()):
        for label in labels:
            if label in index:
                member[index[label], column] = True
    matrix = np.zeros((len(categories), len(heads)), dtype=bool)
    for column in range(len(heads)):
        matrix[rows[member[codes, column]], column] = True
    return matrix


def every_category_heads(
    categories: pa.ChunkedArray | pa.Array,
    primary: pa.ChunkedArray | pa.Array,
    train: np.ndarray,
    min_positives: int,
    label_mode: str = "any",
) -> dict[str, tuple[str]]:
    """One head per category with at least ``min_positives`` positive training papers.

    Args:
        categories: Each paper's categories (canonical names).
        primary: Each paper's primary category.
        train: Which papers are training papers (boolean, one per paper).
        min_positives: Least positive training papers a head needs.
        label_mode: ``any`` or ``primary``.

    Returns:
        Category name to ``(category,)``, in name order.
    """
    names, rows, codes = _category_codes(categories, primary, label_mode)
    in_train = train[rows]
    # A paper listing a category twice counts once.
    pairs = np.unique(np.stack([rows[in_train], codes[in_train]]), axis=1)
    counts = np.bincount(pairs[1], minlength=len(names))
    kept = sorted(names[c] for c in np.flatnonzero(counts >= min_positives))
    return {name: (name,) for name in kept}
