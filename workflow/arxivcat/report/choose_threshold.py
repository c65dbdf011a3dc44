"""The decision threshold that maximises validation F1 (rule ``choose_threshold``).

0.5 stays the threshold of the card's headline numbers (the reference's); the chosen one is
written to ``results/<experiment>/threshold.json`` with the validation and test metrics at both
thresholds, copied into the model folder and its card, and ``predict`` labels at it.  It depends
on the evaluate stage's predictions only, so a new card never reruns a prediction.

A collapsed model (or head), whose validation scores all lie within
:data:`~arxivcat.model.metrics.NO_SIGNAL_SPREAD` of each other, tells no paper from another: its
threshold stays at 0.5, the record says ``"signal": false`` with the reason
(:func:`~arxivcat.model.metrics.threshold_report`), and the log warns.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from arxivcat.io.atomic import write_text_atomic
from arxivcat.model.calibration import fit_temperature, scale
from arxivcat.model.metrics import THRESHOLD, pooled_metrics, threshold_report
from arxivcat.splits.holdout import HELDOUT
from arxivcat.splits.table_schema import column_matrix, table_heads

logger = logging.getLogger(__name__)


def _calibrated(
    labels: np.ndarray, scores: np.ndarray, validation: np.ndarray, calibration: str
) -> tuple[np.ndarray, float | None]:
    """One head's scores (divided by a temperature fitted on validation, when asked for)."""
    if calibration != "temperature":
        return scores, None
    temperature = fit_temperature(labels[validation], scores[validation])
    return scale(scores, temperature), temperature


def _head_report(
    labels: np.ndarray, scores: np.ndarray, splits: dict[str, np.ndarray], calibration: str
) -> tuple[dict[str, Any], np.ndarray]:
    """One head's threshold report (and temperature), and its scores as the threshold sees them."""
    scores, temperature = _calibrated(labels, scores, splits["validation"], calibration)
    report = threshold_report({name: (labels[r], scores[r]) for name, r in splits.items()})
    report["temperature"] = temperature
    return report, scores


def choose_threshold(predictions_path: str | Path, calibration: str = "none") -> dict[str, Any]:
    """Choose the threshold on the validation rows of the evaluate stage's predictions.

    Args:
        predictions_path: The evaluate stage's predictions.
        calibration: ``none``, or ``temperature``: each head's probabilities are first divided
            by a temperature fitted on validation (:mod:`arxivcat.model.calibration`), recorded
            as ``temperature`` beside its threshold (None without).

    Returns:
        ``{"threshold", "validation": {...}, "test": {"at_0.5": {...}, "at_threshold": {...}}}``
        with accuracy, F1, precision and recall at each threshold (test only when present).  For
        a multi-head model: ``{"heads": {<head>: {...as above...}}, "pooled": {<split>: {"at_0.5",
        "at_threshold"}}}``, the pooled metrics (micro and macro) with each head at 0.5 and at its
        own threshold.
    """
    table = pq.read_table(predictions_path, columns=["split", "probability", "label"])
    split = table.column("split").to_numpy(zero_copy_only=False)
    labels = column_matrix(table.column("label")).astype(np.int64)
    scores = column_matrix(table.column("probability"))
    splits = {
        name: split == name for name in ("validation", "test", HELDOUT) if (split == name).any()
    }
    heads = table_heads(pq.read_schema(predictions_path))
    if heads is None:
        return _head_report(labels, scores, splits, calibration)[0]
    per_head, columns = {}, []
    for k, head in enumerate(heads):
        per_head[head], head_scores = _head_report(labels[:, k], scores[:, k], splits, calibration)
        columns.append(head_scores)
    scores = np.stack(columns, axis=1)
    thresholds = np.array([per_head[head]["threshold"] for head in heads])
    pooled = {
        name: {
            "at_0.5": pooled_metrics(labels[rows], scores[rows] > 0.5),
            "at_threshold": pooled_metrics(labels[rows], scores[rows] > thresholds),
        }
        for name, rows in splits.items()
    }
    return {"heads": per_head, "pooled": pooled}


def write_threshold(
    predictions_path: str | Path, output_path: str | Path, calibration: str = "none"
) -> dict[str, Any]:
    """Choose the threshold (:func:`choose_threshold`) and write it as JSON to ``output_path``."""
    chosen = choose_threshold(predictions_path, calibration)
    reports = chosen.get("heads", {"": chosen})
    for head, report in reports.items():
        if not report["signal"]:
            logger.warning(
                "%s%s: no signal: %s; the threshold stays at 0.5",
                predictions_path, f" head {head}" if head else "", report["reason"],
            )  # fmt: skip
    write_text_atomic(output_path, json.dumps(chosen, indent=2) + "\n")
    return chosen


def f1_at_threshold(report: dict[str, Any] | None, split: str = "test") -> float | None:
    """F1 of ``split`` at the threshold chosen on validation, from a threshold report."""
    return (((report or {}).get(split) or {}).get("at_threshold") or {}).get("f1")


def decisions(scores: np.ndarray, report: dict[str, Any] | None) -> np.ndarray:
    """Labels at a threshold report's threshold, its temperature applied first (as chosen)."""
    temperature = (report or {}).get("temperature")
    calibrated = scale(scores, temperature) if temperature else scores
    return calibrated > float((report or {}).get("threshold", THRESHOLD))
