"""Which papers are positives for an experiment's label set (vectorised over Arrow arrays)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def positive_mask(
    categories: pa.ChunkedArray | pa.Array,
    primary: pa.ChunkedArray | pa.Array,
    labels: Sequence[str],
    label_mode: str = "any",
) -> np.ndarray:
    """Whether each paper is a positive for ``labels``.

    Args:
        categories: Each paper's categories (canonical names).
        primary: Each paper's primary category.
        labels: The experiment's label set (canonical names).
        label_mode: ``any`` (any category in the set, as in the reference) or ``primary``.
    """
    value_set = pa.array(list(labels), pa.string())
    if label_mode == "primary":
        return pc.is_in(primary, value_set=value_set).to_numpy(zero_copy_only=False).astype(bool)
    if isinstance(categories, pa.ChunkedArray):
        categories = categories.combine_chunks()
    flat = pc.list_flatten(categories)
    parents = pc.list_parent_indices(categories).to_numpy()
    hits = pc.is_in(flat, value_set=value_set).to_numpy(zero_copy_only=False).astype(bool)
    mask = np.zeros(len(categories), dtype=bool)
    mask[parents[hits]] = True
    return mask
