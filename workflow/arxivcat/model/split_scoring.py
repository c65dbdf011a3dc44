"""A classifier's predictions on a tokenized split, as training and evaluation record them.

Training scores the validation split at each epoch's end with :func:`score_split` and keeps the
pass that belongs to the weights it keeps in the model directory (:data:`VALIDATION_PASS`); the
evaluate stage scores the test split the same way and reuses that validation pass when it ran
where evaluation runs, so the last validation pass is computed once per trained model.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path
from arxivcat.io.progress import Progress
from arxivcat.model.inference import (
    PassStats,
    Placement,
    Tokens,
    classifier_logits,
    run_batches,
    softmax_outputs,
)

logger = logging.getLogger(__name__)

#: The file of the model directory holding the validation pass of the kept weights.
VALIDATION_PASS = "validation_predictions.parquet"
PREDICTIONS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("split", pa.string()),
        ("probability", pa.float64()),
        ("label", pa.int8()),
        ("is_weak_negative", pa.bool_()),
    ]
)


class ScoringError(ArxivcatError, RuntimeError):
    """A tokenized split that cannot be scored, described in one line."""


@dataclass(frozen=True)
class SplitPredictions:
    """The model's outputs on one split, in the split's row order.

    Attributes:
        name: The split.
        ids: Row ids.
        labels: True labels (0/1).
        probabilities: Probability of label 1.
        is_weak_negative: Whether the row is a weak negative.
        loss: Mean cross-entropy computed from the logits.
        stats: The pass's record (rows, tokens, seconds, placement).
    """

    name: str
    ids: list[str]
    labels: np.ndarray
    probabilities: np.ndarray
    is_weak_negative: np.ndarray
    loss: float
    stats: PassStats

    def table(self) -> pa.Table:
        """The predictions as rows of :data:`PREDICTIONS_SCHEMA`."""
        return pa.table(
            {
                "id": self.ids,
                "split": [self.name] * len(self.ids),
                "probability": self.probabilities,
                "label": self.labels.astype(np.int8),
                "is_weak_negative": self.is_weak_negative,
            },
            schema=PREDICTIONS_SCHEMA,
        )


def score_split(
    model: Any,
    split: Any,
    batch_size: int,
    placement: Placement,
    name: str,
    progress_seconds: float = 30.0,
) -> SplitPredictions:
    """Run a 2-way classifier over a tokenized split through the one inference path.

    Args:
        model: The classifier, on ``placement`` in its dtype and in eval mode.
        split: A ``datasets.Dataset`` with input_ids, attention_mask, optional token_type_ids,
            labels, id and optional is_weak_negative columns (not padded).
        batch_size: Rows per forward pass.
        placement: Where the model runs.
        name: The split's name, for the records and progress lines.
        progress_seconds: Longest wait between two progress lines.

    Raises:
        ScoringError: If a column is missing or the model produced non-finite logits.
    """
    missing = {"input_ids", "attention_mask", "labels", "id"} - set(split.column_names)
    if missing:
        raise ScoringError(f"{name}: tokenized split lacks columns {sorted(missing)}")
    labels = np.asarray(split["labels"], dtype=np.int64)
    weak = (
        np.asarray(split["is_weak_negative"], dtype=bool)
        if "is_weak_negative" in split.column_names
        else np.zeros(len(labels), dtype=bool)
    )
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    progress = Progress(logger, f"{name} pass", len(labels), every=progress_seconds, unit="rows")
    logits, stats = run_batches(
        classifier_logits(model), Tokens.from_arrow(split), batch_size, placement, pad, progress
    )
    progress.finish()
    try:
        probabilities, log_probs = softmax_outputs(logits.reshape(len(labels), -1))
    except ValueError as error:
        raise ScoringError(f"{name}: {error}") from None
    loss = float(-np.mean(log_probs[np.arange(len(labels)), labels])) if len(labels) else 0.0
    return SplitPredictions(
        name, [str(i) for i in split["id"]], labels, probabilities, weak, loss, stats
    )


def write_pass(predictions: SplitPredictions, path: str | Path) -> None:
    """Save a split's predictions with their loss and pass record (atomically)."""
    record = {"loss": predictions.loss, "stats": predictions.stats.to_dict()}
    table = predictions.table().replace_schema_metadata({"arxivcat": json.dumps(record)})
    with atomic_path(path) as partial:
        pq.write_table(table, partial)


def read_pass(path: str | Path) -> SplitPredictions:
    """A split's predictions saved by :func:`write_pass`."""
    table = pq.read_table(path)
    record = json.loads(table.schema.metadata[b"arxivcat"])
    stats = PassStats(**{k: v for k, v in record["stats"].items() if k != "samples_per_second"})
    names = table.column("split").unique().to_pylist()
    return SplitPredictions(
        name=names[0] if names else "validation",
        ids=table.column("id").to_pylist(),
        labels=table.column("label").to_numpy().astype(np.int64),
        probabilities=table.column("probability").to_numpy(),
        is_weak_negative=table.column("is_weak_negative").to_numpy(zero_copy_only=False),
        loss=float(record["loss"]),
        stats=stats,
    )
