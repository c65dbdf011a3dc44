"""A classifier's predictions on a tokenized split, as training and evaluation record them.

A binary model's probability of label 1 is its softmax; a multi-head model's are its sigmoids,
one per head (``probability`` and ``label`` are then fixed-size lists, in the order of the heads
named in the table's metadata).

Training scores the validation split at each epoch's end with :func:`score_split` and keeps the
pass that belongs to the weights it keeps in the model directory (:data:`VALIDATION_PASS`); the
evaluate stage scores the test split the same way and reuses that validation pass when it ran
where evaluation runs, so the last validation pass is computed once per trained model.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
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
    logits_and_input,
    positive_probabilities,
    run_batches,
    softmax_outputs,
)
from arxivcat.model.loading import config_heads
from arxivcat.splits.table_schema import HEADS_KEY, column_matrix, table_heads

logger = logging.getLogger(__name__)

#: The file of the model directory holding the validation pass of the kept weights.
VALIDATION_PASS = "validation_predictions.parquet"


def predictions_schema(heads: list[str] | None = None) -> pa.Schema:
    """The predictions' columns: one probability and label per row, or per head of each row."""
    width = None if heads is None else len(heads)
    probability = pa.float64() if width is None else pa.list_(pa.float64(), width)
    label = pa.int8() if width is None else pa.list_(pa.int8(), width)
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("split", pa.string()),
            ("probability", probability),
            ("label", label),
            ("is_weak_negative", pa.bool_()),
        ]
    )
    return schema if heads is None else schema.with_metadata({HEADS_KEY: json.dumps(heads)})


class ScoringError(ArxivcatError, RuntimeError):
    """A tokenized split that cannot be scored, described in one line."""


@dataclass(frozen=True)
class SplitPredictions:
    """The model's outputs on one split, in the split's row order.

    Attributes:
        name: The split.
        ids: Row ids.
        labels: True labels (0/1): ``[rows]``, or ``[rows, heads]`` for a multi-head model.
        probabilities: Probability of label 1 (of each head), shaped as ``labels``.
        is_weak_negative: Whether the row is a weak negative.
        loss: Mean cross-entropy (binary cross-entropy of the heads) computed from the logits.
        stats: The pass's record (rows, tokens, seconds, placement).
        heads: A multi-head model's heads, in column order; None for a binary one.
        features: The pooled features ``[rows, hidden]`` the logits came from, when the pass
            was asked for them (the head refit fits on them); never written to a file.
    """

    name: str
    ids: list[str]
    labels: np.ndarray
    probabilities: np.ndarray
    is_weak_negative: np.ndarray
    loss: float
    stats: PassStats
    heads: list[str] | None = None
    features: np.ndarray | None = None

    def table(self) -> pa.Table:
        """The predictions as rows of :func:`predictions_schema`."""
        return scores_table(
            self.name, self.ids, self.labels, self.probabilities, self.is_weak_negative, self.heads
        )

    def head(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Labels and probabilities of one head (the only one of a binary model: index 0)."""
        if self.heads is None:
            return self.labels, self.probabilities
        return self.labels[:, index], self.probabilities[:, index]


def scores_table(
    split: str,
    ids: Sequence[str] | pa.Array,
    labels: np.ndarray,
    probabilities: np.ndarray,
    is_weak_negative: np.ndarray,
    heads: list[str] | None = None,
) -> pa.Table:
    """One split's rows of :func:`predictions_schema`, from any classifier's scores.

    Args:
        split: The split's name.
        ids: Row ids.
        labels: True labels (0/1), ``[rows]`` or ``[rows, heads]``.
        probabilities: Probability of label 1 (of each head), shaped as ``labels``.
        is_weak_negative: Whether each row is a weak negative.
        heads: A multi-head classifier's heads, in column order; None for a binary one.
    """
    schema = predictions_schema(heads)
    return pa.table(
        {
            "id": ids,
            "split": [split] * len(ids),
            "probability": _column(probabilities, schema.field("probability").type),
            "label": _column(np.asarray(labels).astype(np.int8), schema.field("label").type),
            "is_weak_negative": is_weak_negative,
        },
        schema=schema,
    )


def write_predictions(tables: Sequence[pa.Table], path: str | Path) -> None:
    """Write splits' rows of :func:`predictions_schema` as one predictions file, atomically."""
    with atomic_path(path) as partial:
        pq.write_table(pa.concat_tables(tables), partial)


def write_scores(
    path: str | Path,
    scores: Sequence[Mapping[str, np.ndarray]],
    rows: Mapping[str, tuple[Sequence[str] | pa.Array, np.ndarray, np.ndarray]],
    heads: list[str] | None,
) -> None:
    """Write a baseline's probabilities as predictions in the evaluate stage's format.

    Args:
        path: The predictions file to write (atomically).
        scores: Each scored split's probabilities: one mapping for a binary classifier, one per
            head (in ``heads``' order) for a multi-head experiment's.
        rows: Each split's ids, true labels (``[rows]`` or ``[rows, heads]``) and weak-negative
            flags.
        heads: The experiment's heads; None for a binary one.
    """
    tables = []
    for split in scores[0]:
        probabilities = np.column_stack([s[split] for s in scores]) if heads else scores[0][split]
        ids, labels, weak = rows[split]
        tables.append(scores_table(split, ids, labels, probabilities, weak, heads))
    write_predictions(tables, path)


def _column(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    if isinstance(kind, pa.FixedSizeListType):
        return pa.FixedSizeListArray.from_arrays(pa.array(values.ravel()), kind.list_size)
    return pa.array(values)


def head_outputs(
    logits: np.ndarray, labels: np.ndarray, multi_head: bool
) -> tuple[np.ndarray, float]:
    """Probabilities of label 1 (softmax, or a sigmoid per head) and the mean loss.

    Raises:
        ValueError: If a logit is not finite.
    """
    if not multi_head:
        probabilities, log_probs = softmax_outputs(logits)
        rows = np.arange(len(labels))
        return probabilities, float(-np.mean(log_probs[rows, labels])) if len(labels) else 0.0
    probabilities = positive_probabilities(logits, True)
    values = np.asarray(logits, dtype=np.float64)
    # log(sigmoid(x)) = -softplus(-x), computed stably.
    log_p, log_not_p = -np.logaddexp(0, -values), -np.logaddexp(0, values)
    loss = -np.mean(labels * log_p + (1 - labels) * log_not_p) if len(labels) else 0.0
    return probabilities, float(loss)


def score_split(
    model: Any,
    split: Any,
    batch_size: int,
    placement: Placement,
    name: str,
    progress_seconds: float = 30.0,
    features: bool = False,
) -> SplitPredictions:
    """Run a classifier over a tokenized split through the one inference path.

    Args:
        model: The classifier, on ``placement`` in its dtype and in eval mode.
        split: A ``datasets.Dataset`` with input_ids, attention_mask, optional token_type_ids,
            labels, id and optional is_weak_negative columns (not padded).
        batch_size: Rows per forward pass.
        placement: Where the model runs.
        name: The split's name, for the records and progress lines.
        progress_seconds: Longest wait between two progress lines.
        features: Keep the pooled features the logits come from too (a BERT-style classifier's,
            :func:`~arxivcat.model.inference.logits_and_input`; same pass, same logits).

    Raises:
        ScoringError: If a column is missing or the model produced non-finite logits.
    """
    missing = {"input_ids", "attention_mask", "labels", "id"} - set(split.column_names)
    if missing:
        raise ScoringError(f"{name}: tokenized split lacks columns {sorted(missing)}")
    heads = config_heads(model.config)
    labels = split_labels(split)
    weak = (
        np.asarray(split["is_weak_negative"], dtype=bool)
        if "is_weak_negative" in split.column_names
        else np.zeros(len(labels), dtype=bool)
    )
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    progress = Progress(logger, f"{name} pass", len(labels), every=progress_seconds, unit="rows")
    forward = logits_and_input(model) if features else classifier_logits(model)
    outputs, stats = run_batches(
        forward, Tokens.from_arrow(split), batch_size, placement, pad, progress
    )
    progress.finish()
    width = model.config.num_labels
    logits, pooled = outputs[:, :width], (outputs[:, width:] if features else None)
    try:
        probabilities, loss = head_outputs(logits.reshape(len(labels), -1), labels, bool(heads))
    except ValueError as error:
        raise ScoringError(f"{name}: {error}") from None
    ids = [str(i) for i in split["id"]]
    return SplitPredictions(name, ids, labels, probabilities, weak, loss, stats, heads, pooled)


def split_labels(split: Any, dtype: Any = np.int64) -> np.ndarray:
    """A split's labels, ``[rows]`` or ``[rows, heads]``; a ``datasets.Dataset`` or Arrow table."""
    if getattr(split, "_indices", None) is not None:  # a Dataset with a row selection
        split = split.flatten_indices()
    table = getattr(split, "data", split)  # a Dataset wraps its Arrow table
    return column_matrix(table.column("labels")).astype(dtype)


def write_pass(predictions: SplitPredictions, path: str | Path) -> None:
    """Save a split's predictions with their loss and pass record (atomically)."""
    record = {"loss": predictions.loss, "stats": predictions.stats.to_dict()}
    table = predictions.table()
    metadata = {**(table.schema.metadata or {}), b"arxivcat": json.dumps(record).encode()}
    table = table.replace_schema_metadata(metadata)
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
        labels=column_matrix(table.column("label")).astype(np.int64),
        probabilities=column_matrix(table.column("probability")),
        is_weak_negative=table.column("is_weak_negative").to_numpy(zero_copy_only=False),
        loss=float(record["loss"]),
        stats=stats,
        heads=table_heads(table.schema),
    )
