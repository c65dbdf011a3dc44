"""The decision threshold that maximises validation F1 (rule ``choose_threshold``).

0.5 stays the threshold of the card's headline numbers (the reference's); the chosen one is
written to ``results/<experiment>/threshold.json`` with the validation and test metrics at both
thresholds, copied into the model folder and its card, and ``predict`` labels at it.  It depends
on the evaluate stage's predictions only, so a new card never reruns a prediction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from arxivcat.io.atomic import write_text_atomic
from arxivcat.model.metrics import threshold_report


def choose_threshold(predictions_path: str | Path) -> dict[str, Any]:
    """Choose the threshold on the validation rows of the evaluate stage's predictions.

    Returns:
        ``{"threshold", "validation": {...}, "test": {"at_0.5": {...}, "at_threshold": {...}}}``
        with accuracy, F1, precision and recall at each threshold (test only when present).
    """
    table = pq.read_table(predictions_path, columns=["split", "probability", "label"])
    split = table.column("split").to_numpy(zero_copy_only=False)
    labels = table.column("label").to_numpy().astype(np.int64)
    scores = table.column("probability").to_numpy()
    return threshold_report(
        {
            name: (labels[split == name], scores[split == name])
            for name in ("validation", "test")
            if (split == name).any()
        }
    )


def write_threshold(predictions_path: str | Path, output_path: str | Path) -> dict[str, Any]:
    """Choose the threshold (:func:`choose_threshold`) and write it as JSON to ``output_path``."""
    chosen = choose_threshold(predictions_path)
    write_text_atomic(output_path, json.dumps(chosen, indent=2) + "\n")
    return chosen
