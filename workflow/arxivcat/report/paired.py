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

from pathlib import Path
from typing import Any

import numpy as np

from arxivcat.model.metrics import f1_difference_interval
from arxivcat.report.choose_threshold import decisions
from arxivcat.report.drift import split_scores

#: A predictions file, its threshold report and a head (None for a binary model).
Side = tuple[Path, dict[str, Any], str | None]


def _test_decisions(
    predictions: Path, report: dict[str, Any], head: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test papers' ids, true labels and labels at the threshold chosen on validation."""
    ids, labels, scores = split_scores(predictions, head)["test"]
    return ids, labels, decisions(scores, report)


def f1_difference_on_test(ours: Side, theirs: Side) -> dict[str, Any]:
    """One classifier's test F1 minus another's, each at its own threshold, with a paired interval.

    Args:
        ours: Predictions file, threshold report and head (None for a binary model).
        theirs: The same for the other classifier.

    Returns:
        :func:`~arxivcat.model.metrics.f1_difference_interval` on the test papers both scored,
        with ``papers`` (how many) and ``all_papers`` (whether both scored the same papers).
    """
    ids, labels, predicted = _test_decisions(*ours)
    other_ids, _, other_predicted = _test_decisions(*theirs)
    _, rows, other_rows = np.intersect1d(ids, other_ids, assume_unique=True, return_indices=True)
    interval = f1_difference_interval(labels[rows], predicted[rows], other_predicted[other_rows])
    return {**interval, "papers": len(rows), "all_papers": len(rows) == len(ids) == len(other_ids)}


def interval_text(found: dict[str, Any]) -> str:
    """``[-0.0040, +0.0290]``: the interval's ends."""
    return f"[{found['low']:+.4f}, {found['high']:+.4f}]"


def difference_text(found: dict[str, Any]) -> str:
    """``+0.0123 [-0.0040, +0.0290]``, naming the shared papers when not all were."""
    text = f"{found['difference']:+.4f} {interval_text(found)}"
    return text if found["all_papers"] else f"{text} on {found['papers']:,} shared papers"
