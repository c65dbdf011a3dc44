"""Binary classification metrics of the positive class, computed with scikit-learn.

One function computes every number that ``metrics.json``, the baseline and the card report, from
labels and positive-class probabilities alone, so that the saved predictions reproduce them
without the model.  A paper is predicted positive when its probability is above one half, which
is the argmax of a two-way softmax (the rule the Trainer's per-epoch metrics use).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
)

THRESHOLD = 0.5
# Probabilities are clipped this far from 0 and 1 when a loss is derived from them.
_EPSILON = 1e-12


def predicted_labels(probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
    """Return 1 where the positive-class probability is above one half, else 0."""
    return (np.asarray(probabilities, dtype=np.float64) > THRESHOLD).astype(np.int64)


def cross_entropy(labels: Sequence[int] | np.ndarray, probabilities: Sequence[float]) -> float:
    """Mean negative log-likelihood of ``labels`` under the positive-class ``probabilities``."""
    y = np.asarray(labels, dtype=np.int64)
    p = np.clip(np.asarray(probabilities, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return float(-np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


def threshold_metrics(
    labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray
) -> dict[str, float]:
    """Accuracy, and F1, precision and recall of the positive class (0 where undefined)."""
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, average="binary", pos_label=1, zero_division=0
    )
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1": float(f1),
        "precision": float(precision),
        "recall": float(recall),
    }


def binary_metrics(
    labels: Sequence[int] | np.ndarray,
    probabilities: Sequence[float] | np.ndarray,
    loss: float | None = None,
) -> dict[str, Any]:
    """Accuracy, F1, precision and recall of the positive class, PR-AUC and the confusion matrix.

    Args:
        labels: True labels, 0 or 1.
        probabilities: Predicted probability of label 1 for each row.
        loss: The model's mean cross-entropy, when it was computed from logits; otherwise it is
            derived from the probabilities.

    Returns:
        ``{"accuracy", "f1", "precision", "recall", "loss", "pr_auc", "confusion_matrix"
        [[tn, fp], [fn, tp]], "samples", "positives"}``; precision, recall and F1 are 0 when
        undefined (no predicted or no true positives), PR-AUC (average precision) is None when
        there is no positive label.

    Raises:
        ValueError: If the inputs are empty, of different lengths, or labels are not 0/1.
    """
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(probabilities, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"labels ({y.shape}) and probabilities ({p.shape}) must be equal 1-D")
    if y.size == 0:
        raise ValueError("no rows to compute metrics on")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, found {sorted(set(y.tolist()) - {0, 1})[:5]}")
    predicted = predicted_labels(p)
    matrix = confusion_matrix(y, predicted, labels=[0, 1])
    positives = int(y.sum())
    return {
        **threshold_metrics(y, predicted),
        "loss": float(loss) if loss is not None else cross_entropy(y, p),
        "pr_auc": float(average_precision_score(y, p)) if positives else None,
        "confusion_matrix": matrix.astype(int).tolist(),
        "samples": int(y.size),
        "positives": positives,
    }


def pr_curve(
    labels: Sequence[int] | np.ndarray, probabilities: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (recall, precision) of the precision-recall curve of the positive class."""
    precision, recall, _ = precision_recall_curve(
        np.asarray(labels, dtype=np.int64), np.asarray(probabilities, dtype=np.float64)
    )
    return recall, precision
