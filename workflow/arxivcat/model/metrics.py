"""Binary classification metrics of the positive class, computed with scikit-learn.

One function computes every number that ``metrics.json``, the baseline and the card report, from
labels and positive-class probabilities alone, so that the saved predictions reproduce them
without the model.  A paper is predicted positive when its probability is above one half, which
is the argmax of a two-way softmax (the rule the Trainer's per-epoch metrics use).

Every scorer (the fine-tuned model, the TF-IDF baseline, the frozen-embedding probe) is also
reported at its own threshold chosen on validation (:func:`threshold_report`), so that a card
compares like with like: a baseline labelled at 0.5 on a rare category loses by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    precision_recall_curve,
    precision_recall_fscore_support,
)

from arxivcat.errors import ArxivcatError

THRESHOLD = 0.5
#: Validation scores all within this of each other carry no signal (a collapsed model).
NO_SIGNAL_SPREAD = 1e-5
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


class ThresholdError(ArxivcatError, ValueError):
    """Validation scores from which no threshold can be chosen."""


def best_f1_threshold(labels: Sequence[int] | np.ndarray, probabilities: np.ndarray) -> float:
    """The threshold ``t`` maximising the F1 of ``probabilities > t`` against ``labels``.

    Candidates lie halfway between consecutive distinct probabilities (and below the lowest), so
    ``t`` never coincides with a score; among equal F1 the candidate closest to 0.5 wins.

    Raises:
        ThresholdError: If there are no rows or no positive label.
    """
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(probabilities, dtype=np.float64)
    if y.size == 0 or not y.any():
        raise ThresholdError("no validation rows with a positive label: no threshold to choose")
    order = np.argsort(-p, kind="stable")
    p, y = p[order], y[order]
    true_positives = np.cumsum(y)
    predicted = np.arange(1, y.size + 1)
    f1 = 2 * true_positives / (predicted + y.sum())
    # A cut after row k is possible only where the next score is lower.
    last = np.append(p[1:] < p[:-1], True)
    below = np.append(p[1:], p[-1] - 1e-6)
    candidates = ((p + below) / 2)[last]
    scores = f1[last]
    best = np.flatnonzero(np.isclose(scores, scores.max(), rtol=0, atol=1e-12))
    choice = best[np.argmin(np.abs(candidates[best] - THRESHOLD))]
    return float(np.clip(candidates[choice], 0.0, 1.0))


def no_signal(scores: np.ndarray) -> str | None:
    """Why validation ``scores`` carry no signal (all within :data:`NO_SIGNAL_SPREAD`), or None.

    A collapsed scorer tells no paper from another: a threshold "chosen" among its scores only
    picks a side of float noise (below them all it labels every paper positive).
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return None  # best_f1_threshold says what is wrong
    spread = float(scores.max() - scores.min())
    if spread > NO_SIGNAL_SPREAD:
        return None
    return (
        f"the {scores.size} validation scores lie within {spread:.1e} of each other (at "
        f"{scores.min():.6f}): they do not tell papers apart"
    )


def threshold_report(
    scored: Mapping[str, tuple[Sequence[int] | np.ndarray, Sequence[float] | np.ndarray]],
) -> dict[str, Any]:
    """Choose the threshold on the ``validation`` split; report every split at 0.5 and at it.

    Without signal (:func:`no_signal`) no threshold is chosen: it stays at 0.5, ``signal`` is
    false and ``reason`` says why.

    Args:
        scored: Split name to (labels, positive-class probabilities); ``validation`` required.

    Returns:
        ``{"threshold", "signal", <split>: {"at_0.5": {...}, "at_threshold": {...}}, ...}`` with
        accuracy, F1, precision and recall (:func:`threshold_metrics`) for each split of
        ``scored``, and ``reason`` without signal.

    Raises:
        ThresholdError: If validation is absent, empty or has no positive label.
    """
    if "validation" not in scored:
        raise ThresholdError("no validation scores: no threshold to choose")
    reason = no_signal(np.asarray(scored["validation"][1]))
    out: dict[str, Any]
    if reason is None:
        threshold = best_f1_threshold(*scored["validation"])
        out = {"threshold": threshold, "signal": True}
    else:
        threshold = THRESHOLD
        out = {"threshold": threshold, "signal": False, "reason": reason}
    for split, (labels, probabilities) in scored.items():
        p = np.asarray(probabilities, dtype=np.float64)
        out[split] = {
            "at_0.5": rate_metrics(labels, p > THRESHOLD),
            "at_threshold": rate_metrics(labels, p > threshold),
        }
    return out


def rate_metrics(
    labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray
) -> dict[str, float]:
    """:func:`threshold_metrics` and the false-positive rate (0 without negatives).

    Recall (the true-positive rate) and the false-positive rate do not depend on the share of
    positives, so they carry a threshold's behaviour to a corpus with another share
    (:mod:`arxivcat.model.prevalence`).
    """
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(predicted).astype(bool)
    negatives = int((y == 0).sum())
    false_positives = int((p & (y == 0)).sum())
    return {
        **threshold_metrics(y, p.astype(np.int64)),
        "false_positive_rate": false_positives / negatives if negatives else 0.0,
    }


def metrics_by_year(
    labels: np.ndarray, predicted: np.ndarray, years: np.ndarray
) -> list[dict[str, Any]]:
    """Papers, positives, F1, precision and recall of each year, in year order."""
    out = []
    for year in sorted(int(y) for y in np.unique(years[~np.isnan(years.astype(float))])):
        rows = years == year
        y = np.asarray(labels)[rows]
        out.append(
            {
                "year": year,
                "papers": int(rows.sum()),
                "positives": int(y.sum()),
                **threshold_metrics(y, np.asarray(predicted)[rows]),
            }
        )
    return out


def pooled_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """A multi-head model's metrics over every (paper, head) pair: micro and macro averages.

    Args:
        labels: True labels ``[papers, heads]``.
        predicted: Predicted labels ``[papers, heads]``.

    Returns:
        Accuracy, F1, precision and recall micro-averaged (pooled over all pairs, so frequent
        heads weigh more), and ``macro_f1``, the mean of the heads' F1.
    """
    y = np.asarray(labels, dtype=np.int64)
    p = np.asarray(predicted).astype(np.int64)
    per_head = [threshold_metrics(y[:, k], p[:, k])["f1"] for k in range(y.shape[1])]
    return {**threshold_metrics(y.ravel(), p.ravel()), "macro_f1": float(np.mean(per_head))}


def f1_difference_interval(
    labels: Sequence[int] | np.ndarray,
    ours: Sequence[int] | np.ndarray,
    theirs: Sequence[int] | np.ndarray,
    level: float = 0.95,
    draws: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """The F1 difference of two classifiers' labels on the same papers, with a bootstrap interval.

    Both are resampled together (each draw weighs every paper by one Poisson(1) count, which for
    hundreds of papers or more is the usual resampling with replacement), so the interval is of
    the paired difference.  The labels are fixed: the interval covers the papers that happened to
    be tested on, not the choice of threshold or the randomness of training.  The seed is fixed,
    so the same predictions give the same interval.

    Args:
        labels: True labels of the papers.
        ours: The first classifier's predicted labels.
        theirs: The second's, for the same papers in the same order.
        level: The interval's coverage.
        draws: Bootstrap resamples.
        seed: The resampling seed.

    Returns:
        ``{"difference", "low", "high"}``: F1 of ``ours`` minus F1 of ``theirs`` on all papers,
        and the interval's ends.
    """
    column = (np.reshape(np.asarray(x), (-1, 1)) for x in (labels, ours, theirs))
    return f1_difference_intervals(*column, level=level, draws=draws, seed=seed)[0]


#: The most bytes of float32 counts one pass of :func:`f1_difference_intervals` multiplies.
COUNTS_BYTES = 2**28


def f1_difference_intervals(
    labels: np.ndarray,
    ours: np.ndarray,
    theirs: np.ndarray,
    level: float = 0.95,
    draws: int = 2000,
    seed: int = 0,
) -> list[dict[str, float]]:
    """:func:`f1_difference_interval` of every head (column) of ``[papers, heads]`` matrices.

    Each head's result equals :func:`f1_difference_interval` on its column: every head is
    resampled with the same draws, one matrix product per block of draws for a pass of heads
    (a 150-head model's intervals in the time of a few heads' one by one).
    """
    y, a, b = (np.asarray(x).astype(bool) for x in (labels, ours, theirs))
    per_pass = max(1, COUNTS_BYTES // (24 * max(len(y), 1)))
    found: list[dict[str, float]] = []
    for first in range(0, y.shape[1], per_pass):
        heads = slice(first, first + per_pass)
        found += _intervals(y[:, heads], a[:, heads], b[:, heads], level, draws, seed)
    return found


def _intervals(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, level: float, draws: int, seed: int
) -> list[dict[str, float]]:
    """The paired intervals of the heads (columns) of boolean ``[papers, heads]`` matrices."""
    # A draw's counts are its weights summed over each classifier's tp, fp and fn papers.
    counts = np.concatenate([y & a, ~y & a, y & ~a, y & b, ~y & b, y & ~b], axis=1)
    counts = np.ascontiguousarray(counts.T, dtype=np.float32)
    rng = np.random.default_rng(seed)
    block = max(1, 2**22 // max(len(y), 1))
    differences = []
    for start in range(0, draws, block):
        weights = rng.poisson(1.0, size=(min(block, draws - start), len(y))).astype(np.float32)
        tp_a, fp_a, fn_a, tp_b, fp_b, fn_b = np.split(weights @ counts.T, 6, axis=1)
        differences.append(_f1(tp_a, fp_a, fn_a) - _f1(tp_b, fp_b, fn_b))
    low, high = np.quantile(np.concatenate(differences), [(1 - level) / 2, (1 + level) / 2], 0)
    whole = np.split(counts.sum(axis=1), 6)
    difference = _f1(*whole[:3]) - _f1(*whole[3:])
    return [
        {"difference": float(d), "low": float(lo), "high": float(hi)}
        for d, lo, hi in zip(difference, low, high, strict=True)
    ]


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 from counts (0 where there is no positive, predicted or true)."""
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1e-12), 0.0)
