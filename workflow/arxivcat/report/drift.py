"""What a card says of the papers that come after its data, and of corpora unlike its splits.

Gathered from the evaluate stage's predictions, the experiment's tables (each paper's year) and
the threshold records: F1 by year of first submission on the test split and the held-out newest
papers, at the model's own threshold; precision and F1 at other shares of positives, from
validation's true- and false-positive rates (:mod:`arxivcat.model.prevalence`); and how well the
probabilities match frequencies on validation (:mod:`arxivcat.model.calibration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from arxivcat.model.calibration import reliability, scale
from arxivcat.model.metrics import metrics_by_year
from arxivcat.model.prevalence import at_prevalence
from arxivcat.report.choose_threshold import decisions
from arxivcat.splits.table_schema import column_matrix, table_heads

#: The splits whose papers are counted by year.
YEAR_SPLITS = ("test", "heldout")


@dataclass
class Drift:
    """The card's facts on time, prevalence and calibration.

    Attributes:
        years: Split (test, heldout) to the model's metrics by year, at its own threshold.
        calibration: ``before`` (and with a temperature ``after``) reliability on validation,
            and ``temperature``.
    """

    years: dict[str, list[dict[str, Any]]]
    calibration: dict[str, Any]


def split_scores(predictions_path: str | Path, head: str | None) -> dict[str, tuple]:
    """Each split's (ids, labels, probabilities), of one head or pooled over every head."""
    table = pq.read_table(predictions_path, columns=["id", "split", "probability", "label"])
    split = table.column("split").to_numpy(zero_copy_only=False)
    ids = np.asarray(table.column("id").to_pylist(), dtype=object)
    labels = column_matrix(table.column("label"))
    scores = column_matrix(table.column("probability"))
    if head is not None:
        column = (table_heads(pq.read_schema(predictions_path)) or []).index(head)
        labels, scores = labels[:, column], scores[:, column]
    elif labels.ndim == 2:  # every (paper, head) pair of a multi-head model
        width = labels.shape[1]
        split, ids = np.repeat(split, width), np.repeat(ids, width)
        labels, scores = labels.ravel(), scores.ravel()
    return {name: (ids[split == name], labels[split == name], scores[split == name])
            for name in np.unique(split)}  # fmt: skip


def _years(tables: Mapping[str, str | Path]) -> dict[str, int]:
    """Each paper's year of first submission, from the experiment's tables."""
    out: dict[str, int] = {}
    for path in tables.values():
        table = pq.read_table(path, columns=["id", "year"])
        out.update(zip(table["id"].to_pylist(), table["year"].to_pylist(), strict=True))
    return out


def drift_facts(
    predictions_path: str | Path,
    tables: Mapping[str, str | Path],
    threshold: Mapping[str, Any] | None,
    head: str | None = None,
) -> Drift:
    """F1 by year and calibration of the model (of one head, or pooled over its heads).

    Args:
        predictions_path: The evaluate stage's predictions.
        tables: The experiment's ``test`` and ``heldout`` tables (their ``year`` is read).
        threshold: The threshold record of the model or head: its ``threshold`` and
            ``temperature`` are applied; None for 0.5 and no temperature.
        head: One head of a multi-head model; None for a binary one or the pooled numbers.
    """
    scored = split_scores(predictions_path, head)
    temperature = (threshold or {}).get("temperature")
    year_of = _years(tables)
    years = {}
    for name in YEAR_SPLITS:
        if name in scored:
            ids, labels, scores = scored[name]
            known = np.array([year_of.get(i) for i in ids], dtype=float)
            years[name] = metrics_by_year(labels, decisions(scores, threshold), known)
    _, labels, scores = scored["validation"]
    calibration: dict[str, Any] = {"before": reliability(labels, scores), "temperature": None}
    if temperature:
        calibration.update(temperature=temperature, after=reliability(labels, scale(scores,
                           temperature)))  # fmt: skip
    return Drift(years, calibration)


def prevalence_rows(
    shares: Mapping[str, float | None], scorers: Mapping[str, Mapping[str, Any] | None]
) -> list[dict[str, Any]]:
    """Precision and F1 of each scorer at each share, from its validation rates at its threshold.

    Args:
        shares: What each share is (``"validation split"``) to the share of positives.
        scorers: Scorer name to its threshold report (None: left out).
    """
    rows = []
    for name, share in shares.items():
        if share is None or not 0 < share < 1:
            continue
        row: dict[str, Any] = {"name": name, "prevalence": share}
        for scorer, report in scorers.items():
            rates = ((report or {}).get("validation") or {}).get("at_threshold")
            if rates and "false_positive_rate" in rates:
                row[scorer] = at_prevalence(rates["recall"], rates["false_positive_rate"], share)
        rows.append(row)
    return rows
