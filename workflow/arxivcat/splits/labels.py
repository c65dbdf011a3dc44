"""Label selection: which papers are positives for an experiment's label set.

:func:`positive_mask` is vectorised over Arrow arrays; :func:`check_both_classes` stops an
experiment whose split holds no positive or no negative paper, before any tokenizing or training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arxivcat.splits.assign_splits import SplitError
from arxivcat.splits.settings import LabellingSettings


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


def check_both_classes(
    experiment: str,
    split_definition: str | None,
    labelling: LabellingSettings,
    selections: Mapping[str, tuple[np.ndarray, np.ndarray]],
    weak_negatives: int,
    heads: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Refuse an experiment with a split that holds no positive or no negative paper (per head).

    Raises:
        SplitError: Naming the experiment, the split, the head and its label set.
    """
    sets = dict(heads) if heads is not None else {"": labelling.labels}
    for split, (rows, labels) in selections.items():
        matrix = labels.reshape(len(rows), -1) if len(rows) else np.zeros((0, len(sets)))
        for column, (head, label_set) in enumerate(sets.items()):
            positives = int(matrix[:, column].sum())
            negatives = len(rows) - positives + (weak_negatives if split == "train" else 0)
            if positives and negatives:
                continue
            missing = "positive" if not positives else "negative"
            what = f"head {head} " if head else ""
            raise SplitError(
                f"experiment {experiment}: the {split} split (of split {split_definition!r}) has "
                f"no {missing} paper for {what}labels {', '.join(label_set)} "
                f"({labelling.label_mode}); {positives} of its {len(rows)} papers are positive"
            )
