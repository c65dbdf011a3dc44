"""The decision threshold that maximises validation F1 (rule ``choose_threshold``).

0.5 stays the threshold of the card's headline numbers (the reference's); the chosen one is
written to ``results/<experiment>/threshold.json`` with the validation and test metrics at both
thresholds, copied into the model folder and its card, and ``predict`` labels at it.  It depends
on the evaluate stage's predictions only, so a new card never reruns a prediction.

A collapsed model, whose validation scores all lie within :data:`NO_SIGNAL_SPREAD` of each other,
tells no paper from another: a threshold "chosen" among such scores only picks a side of float
noise (below them all it labels every paper positive).  Its threshold stays at 0.5, the record says
``"signal": false`` with the reason, and the log warns.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import write_text_atomic
from arxivcat.model.metrics import threshold_metrics
from arxivcat.predict.model_folder import DEFAULT_THRESHOLD

logger = logging.getLogger(__name__)

#: Validation scores all within this of each other carry no signal (a collapsed model).
NO_SIGNAL_SPREAD = 1e-5


class ThresholdError(ArxivcatError, ValueError):
    """Evaluation predictions from which no threshold can be chosen."""


def best_f1_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
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
    choice = best[np.argmin(np.abs(candidates[best] - 0.5))]
    return float(np.clip(candidates[choice], 0.0, 1.0))


def choose_threshold(predictions_path: str | Path) -> dict[str, Any]:
    """Choose the threshold on the validation rows of the evaluate stage's predictions.

    Returns:
        ``{"threshold", "signal", "validation": {...}, "test": {"at_0.5": {...}, "at_threshold":
        {...}}}`` with accuracy, F1, precision and recall at each threshold (test only when
        present); without signal, also ``"reason"``.
    """
    table = pq.read_table(predictions_path, columns=["split", "probability", "label"])
    split = table.column("split").to_numpy(zero_copy_only=False)
    labels = table.column("label").to_numpy().astype(np.int64)
    scores = table.column("probability").to_numpy()
    validation = split == "validation"
    reason = _no_signal(scores[validation])
    if reason is None:
        threshold = best_f1_threshold(labels[validation], scores[validation])
        out: dict[str, Any] = {"threshold": threshold, "signal": True}
    else:
        logger.warning(
            "%s: no signal: %s; the threshold stays at %s", predictions_path, reason,
            DEFAULT_THRESHOLD,
        )  # fmt: skip
        threshold = DEFAULT_THRESHOLD
        out = {"threshold": threshold, "signal": False, "reason": reason}
    for name, rows in (("validation", validation), ("test", split == "test")):
        if rows.any():
            out[name] = {
                "at_0.5": threshold_metrics(labels[rows], scores[rows] > 0.5),
                "at_threshold": threshold_metrics(labels[rows], scores[rows] > threshold),
            }
    return out


def _no_signal(scores: np.ndarray) -> str | None:
    """Why validation ``scores`` carry no signal (all within :data:`NO_SIGNAL_SPREAD`), or None."""
    if scores.size == 0:
        return None  # best_f1_threshold says what is wrong
    spread = float(scores.max() - scores.min())
    if spread > NO_SIGNAL_SPREAD:
        return None
    return (
        f"the {scores.size} validation scores lie within {spread:.1e} of each other (at "
        f"{scores.min():.6f}): they do not tell papers apart"
    )


def write_threshold(predictions_path: str | Path, output_path: str | Path) -> dict[str, Any]:
    """Choose the threshold (:func:`choose_threshold`) and write it as JSON to ``output_path``."""
    chosen = choose_threshold(predictions_path)
    write_text_atomic(output_path, json.dumps(chosen, indent=2) + "\n")
    return chosen
