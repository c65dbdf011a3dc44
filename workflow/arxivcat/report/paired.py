"""Two classifiers' test F1, each at its own threshold, compared paper by paper.

A difference of two F1 scores on one test set says little without its noise: the paired bootstrap
interval (:func:`~arxivcat.model.metrics.f1_difference_interval`) resamples the test papers both
classifiers scored, so that a difference within the test set's noise does not read as a cost or a
gain.  It covers which papers were tested, not the randomness of training.  Each side is a
predictions file in the evaluate stage's format (the fine-tuned model's, the TF-IDF baseline's or
the frozen probe's), its threshold report chosen on validation, and a head (None for a binary
model).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from arxivcat.model.metrics import f1_difference_intervals
from arxivcat.report.choose_threshold import decisions
from arxivcat.splits.table_schema import column_matrix, table_heads

#: A predictions file, its threshold report and a head (None for a binary model).
Side = tuple[Path, dict[str, Any], str | None]


def _test_decisions(
    predictions: Path, reports: Mapping[str | None, dict[str, Any]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test papers' ids, and ``[papers, heads]`` true labels and labels at each head's threshold.

    ``reports`` maps each head (None for a binary model) to its threshold report.
    """
    table = pq.read_table(
        predictions, columns=["id", "probability", "label"], filters=[("split", "==", "test")]
    )
    labels, scores = column_matrix(table["label"]), column_matrix(table["probability"])
    names = table_heads(pq.read_schema(predictions))
    if names is None:
        labels, scores, names = labels[:, None], scores[:, None], [None]
    columns = [names.index(head) for head in reports]
    predicted = [decisions(scores[:, c], r) for c, r in zip(columns, reports.values(), strict=True)]
    ids = np.asarray(table["id"].to_pylist(), dtype=object)
    return ids, labels[:, columns], np.stack(predicted, axis=1)


def f1_differences_on_test(
    ours: tuple[Path, Mapping[str | None, dict[str, Any]]],
    theirs: tuple[Path, Mapping[str | None, dict[str, Any]]],
) -> list[dict[str, Any]]:
    """:func:`f1_difference_on_test` of several heads, each predictions file read once.

    Args:
        ours: Predictions file and each head's threshold report (None for a binary model).
        theirs: The other classifier's, as many heads, compared in order (a binary model's
            None beside a head of a multi-head one).

    Returns:
        One result per head, in order.
    """
    ids, labels, predicted = _test_decisions(*ours)
    other_ids, _, other_predicted = _test_decisions(*theirs)
    _, rows, other_rows = np.intersect1d(ids, other_ids, assume_unique=True, return_indices=True)
    intervals = f1_difference_intervals(labels[rows], predicted[rows], other_predicted[other_rows])
    same = len(rows) == len(ids) == len(other_ids)
    return [{**interval, "papers": len(rows), "all_papers": same} for interval in intervals]


def f1_difference_on_test(ours: Side, theirs: Side) -> dict[str, Any]:
    """One classifier's test F1 minus another's, each at its own threshold, with a paired interval.

    Args:
        ours: Predictions file, threshold report and head (None for a binary model).
        theirs: The same for the other classifier.

    Returns:
        :func:`~arxivcat.model.metrics.f1_difference_interval` on the test papers both scored,
        with ``papers`` (how many) and ``all_papers`` (whether both scored the same papers).
    """
    return f1_differences_on_test(
        (ours[0], {ours[2]: ours[1]}), (theirs[0], {theirs[2]: theirs[1]})
    )[0]


def interval_text(found: dict[str, Any]) -> str:
    """``[-0.0040, +0.0290]``: the interval's ends."""
    return f"[{found['low']:+.4f}, {found['high']:+.4f}]"


def difference_text(found: dict[str, Any]) -> str:
    """``+0.0123 [-0.0040, +0.0290]``, naming the shared papers when not all were."""
    text = f"{found['difference']:+.4f} {interval_text(found)}"
    return text if found["all_papers"] else f"{text} on {found['papers']:,} shared papers"
