"""What tells the summary's rows apart: the training settings that differ, and each sweep's best.

Two experiments that differ only in their learning rate look alike in a table of metrics; the
summary therefore shows, beside the experiment, every training setting whose value differs
between its rows (operational settings, which never change a model, left aside), and for the
experiments of a sweep (:mod:`arxivcat.sweeps`) marks the one with the best validation F1.  The
test split never chooses.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from arxivcat.model.settings import OPERATIONAL_KEYS, TrainingSettings

#: The training settings that can make two models differ, in the schema's order.
RESULT_SETTINGS = tuple(
    field.name
    for field in dataclasses.fields(TrainingSettings)
    if field.name not in OPERATIONAL_KEYS
)


def varying_settings(settings: Sequence[dict[str, Any]]) -> list[str]:
    """The result settings whose values differ between ``settings`` (one mapping per row)."""
    return [
        key
        for key in RESULT_SETTINGS
        if len({json.dumps(each.get(key), sort_keys=True) for each in settings}) > 1
    ]


def best_of_sweeps(rows: Sequence[dict[str, Any]]) -> set[str]:
    """The experiment of each sweep with the highest validation F1 (the first one on ties).

    Args:
        rows: Summary rows with ``experiment``, ``sweep`` (None outside a sweep) and
            ``validation_f1`` (None when unknown, never chosen).
    """
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        sweep, f1 = row.get("sweep"), row.get("validation_f1")
        if sweep is None or f1 is None:
            continue
        if sweep not in best or f1 > best[sweep]["validation_f1"]:
            best[sweep] = row
    return {row["experiment"] for row in best.values()}
