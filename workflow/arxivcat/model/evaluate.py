"""Evaluation of a trained classifier on the validation and test splits.

The model reads each split sorted by length in batches padded only to their longest row (dynamic
padding), which wastes far less compute on padding than a shuffled order.  Every prediction is
saved (id, split, probability, label, is_weak_negative) so that the metrics can be recomputed, or
new ones computed, without the model.  Runs offline: metrics come from scikit-learn.
"""

from __future__ import annotations

import json
import logging
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.progress import Progress, quiet_progress_bars
from arxivcat.model import devices
from arxivcat.model.metrics import binary_metrics
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.storage import writing

logger = logging.getLogger(__name__)

#: The splits a model is evaluated on (of :data:`arxivcat.splits.methods.SPLITS`).
EVALUATED_SPLITS = ("validation", "test")
MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids")
PREDICTIONS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("split", pa.string()),
        ("probability", pa.float64()),
        ("label", pa.int8()),
        ("is_weak_negative", pa.bool_()),
    ]
)


class EvaluationError(ArxivcatError, RuntimeError):
    """A problem with the evaluation's inputs, described in one line."""


@dataclass(frozen=True)
class SplitPredictions:
    """The model's outputs on one split, in the split's row order.

    Attributes:
        ids: Row ids.
        labels: True labels (0/1).
        probabilities: Probability of label 1.
        is_weak_negative: Whether the row is a weak negative.
        loss: Mean cross-entropy computed from the logits.
    """

    ids: list[str]
    labels: np.ndarray
    probabilities: np.ndarray
    is_weak_negative: np.ndarray
    loss: float


def placement(settings: TrainingSettings) -> tuple[torch.device, torch.dtype | None]:
    """Return the torch device and autocast dtype (None for fp32) to evaluate on.

    Uses the train stage's device and precision rules (:mod:`arxivcat.model.devices`); on a local
    multi-GPU machine the job first claims a GPU of its own, as training does.

    Args:
        settings: The experiment's training settings (``device`` and ``precision`` are used).

    Raises:
        DeviceError: If the requested device is not usable here.
    """
    requested = settings.device
    if requested in ("auto", "cuda"):
        devices.claim_gpus(1)
    name = devices.resolve_device(requested)
    if name == "tpu":
        import torch_xla.core.xla_model as xm  # type: ignore[import-not-found]

        device = xm.xla_device()
    else:
        device = torch.device(name)
    precision = devices.resolve_precision(settings.precision, name)
    return device, torch.bfloat16 if precision == "bf16" else None


def _batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Row indices grouped into batches of similar length, longest first."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def _pad(rows: list[list[int]], value: int, multiple: int) -> torch.Tensor:
    width = max(len(row) for row in rows)
    width = int(math.ceil(width / multiple) * multiple)
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
    return out


@torch.inference_mode()
def predict_split(
    model: torch.nn.Module,
    split: Any,
    batch_size: int,
    device: torch.device,
    dtype: torch.dtype | None = None,
    pad_token_id: int = 0,
    name: str = "split",
    progress_seconds: float = 30.0,
) -> SplitPredictions:
    """Run ``model`` over a tokenized split and return its positive-class probabilities.

    Args:
        model: A two-label sequence classifier, already on ``device`` and in eval mode.
        split: A ``datasets.Dataset`` with input_ids, attention_mask, optional token_type_ids,
            labels, id and is_weak_negative columns (not padded).
        batch_size: Rows per forward pass.
        device: Where the model runs.
        dtype: Autocast dtype (bf16/fp16), or None for full precision.
        pad_token_id: Padding id for input_ids.
        name: The split's name, for progress messages.
        progress_seconds: Longest wait between two progress lines.

    Returns:
        The predictions in the split's row order.
    """
    missing = {"input_ids", "attention_mask", "labels", "id"} - set(split.column_names)
    if missing:
        raise EvaluationError(f"{name}: tokenized split lacks columns {sorted(missing)}")
    columns = [c for c in MODEL_COLUMNS if c in split.column_names]
    data = {c: split[c] for c in columns}
    labels = np.asarray(split["labels"], dtype=np.int64)
    ids = [str(i) for i in split["id"]]
    weak = (
        np.asarray(split["is_weak_negative"], dtype=bool)
        if "is_weak_negative" in split.column_names
        else np.zeros(len(ids), dtype=bool)
    )
    lengths = [len(row) for row in data["input_ids"]]
    logits = np.zeros((len(ids), 2), dtype=np.float64)
    multiple = 8 if device.type == "cuda" else 1
    batches = _batches(lengths, batch_size)
    progress = Progress(logger, f"evaluate {name}", len(ids), every=progress_seconds, unit="rows")
    autocast = (
        torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None else nullcontext()
    )
    for batch in batches:
        inputs = {
            column: _pad(
                [data[column][i] for i in batch],
                pad_token_id if column == "input_ids" else 0,
                multiple,
            ).to(device, non_blocking=True)
            for column in columns
        }
        with autocast:
            output = model(**inputs).logits
        logits[batch] = output.float().cpu().numpy()
        progress.advance(len(batch))
    if logits.shape[0] and not np.isfinite(logits).all():
        raise EvaluationError(f"{name}: the model produced non-finite logits")
    log_probs = torch.log_softmax(torch.from_numpy(logits), dim=-1).numpy()
    loss = float(-np.mean(log_probs[np.arange(len(labels)), labels])) if len(labels) else 0.0
    return SplitPredictions(
        ids=ids,
        labels=labels,
        probabilities=np.exp(log_probs[:, 1]),
        is_weak_negative=weak,
        loss=loss,
    )


def split_metrics(predictions: SplitPredictions) -> dict[str, dict[str, Any]]:
    """Metrics of one split, plus the metrics without weak negatives when it holds some."""
    out = {"all": binary_metrics(predictions.labels, predictions.probabilities, predictions.loss)}
    if predictions.is_weak_negative.any():
        keep = ~predictions.is_weak_negative
        out["without_weak_negatives"] = binary_metrics(
            predictions.labels[keep], predictions.probabilities[keep]
        )
    return out


def evaluate_model(
    model_dir: str | Path,
    dataset_dir: str | Path,
    metrics_path: str | Path,
    predictions_path: str | Path,
    settings: TrainingSettings,
) -> dict[str, Any]:
    """Evaluate the final model on validation and test; write metrics.json and predictions.

    Args:
        model_dir: A Hugging Face model directory (``from_pretrained`` reads it).
        dataset_dir: The tokenized ``DatasetDict`` (splits validation and test).
        metrics_path: Where to write ``metrics.json``: ``{"validation": {...}, "test": {...}}``
            and ``"validation_without_weak_negatives"`` when validation holds weak negatives.
        predictions_path: Where to write the predictions parquet (id, split, probability,
            label, is_weak_negative).
        settings: The experiment's training settings (``device``, ``precision``,
            ``eval_batch_size`` and ``progress_seconds`` are used).

    Returns:
        The metrics written.

    Raises:
        EvaluationError: If an input is missing or unusable.
        StorageError: If the disk is full or an output may not be written (names the path).
    """
    from datasets import DatasetDict
    from transformers import AutoModelForSequenceClassification

    model_dir, dataset_dir = Path(model_dir), Path(dataset_dir)
    if not (model_dir / "config.json").is_file():
        raise EvaluationError(f"{model_dir}: not a model directory (no config.json)")
    try:
        dataset = DatasetDict.load_from_disk(str(dataset_dir))
    except FileNotFoundError as error:
        raise EvaluationError(f"{dataset_dir}: not a saved DatasetDict ({error})") from None
    absent = [s for s in EVALUATED_SPLITS if s not in dataset]
    if absent:
        raise EvaluationError(f"{dataset_dir}: no {' or '.join(absent)} split")

    quiet_progress_bars()
    device, dtype = placement(settings)
    batch_size = settings.eval_batch_size
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir))
    if model.config.num_labels != 2:
        raise EvaluationError(f"{model_dir}: expected a 2-label classifier, not {model.num_labels}")
    model.to(device).eval()
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    logger.info(
        "evaluating %s on %s (%s), batch %d", model_dir, device, dtype or "fp32", batch_size
    )

    metrics: dict[str, Any] = {}
    tables = []
    for name in EVALUATED_SPLITS:
        started = time.monotonic()
        predictions = predict_split(
            model,
            dataset[name],
            batch_size,
            device,
            dtype,
            pad_token_id=pad,
            name=name,
            progress_seconds=settings.progress_seconds,
        )
        if len(predictions.ids) == 0:
            raise EvaluationError(f"{dataset_dir}: the {name} split is empty")
        result = split_metrics(predictions)
        metrics[name] = result["all"]
        metrics[name]["runtime_seconds"] = round(time.monotonic() - started, 3)
        if "without_weak_negatives" in result:
            metrics[f"{name}_without_weak_negatives"] = result["without_weak_negatives"]
        logger.info(
            "%s: F1 %.4f, precision %.4f, recall %.4f, accuracy %.4f (%d rows)",
            name,
            metrics[name]["f1"],
            metrics[name]["precision"],
            metrics[name]["recall"],
            metrics[name]["accuracy"],
            len(predictions.ids),
        )
        tables.append(
            pa.table(
                {
                    "id": predictions.ids,
                    "split": [name] * len(predictions.ids),
                    "probability": predictions.probabilities,
                    "label": predictions.labels.astype(np.int8),
                    "is_weak_negative": predictions.is_weak_negative,
                },
                schema=PREDICTIONS_SCHEMA,
            )
        )
    with writing(predictions_path, "predictions"), atomic_path(predictions_path) as partial:
        pq.write_table(pa.concat_tables(tables), partial)
    with writing(metrics_path, "metrics"):
        write_text_atomic(metrics_path, json.dumps(metrics, indent=2) + "\n")
    return metrics


def metrics_from_predictions(predictions_path: str | Path) -> dict[str, Any]:
    """Recompute each split's metrics from a predictions parquet (no model needed).

    The loss is derived from the saved probabilities, so it may differ from the logit-based loss
    in ``metrics.json`` in the last digits; every other number is identical.
    """
    table = pq.read_table(predictions_path)
    out: dict[str, Any] = {}
    splits = table.column("split").to_numpy(zero_copy_only=False)
    labels = table.column("label").to_numpy()
    probabilities = table.column("probability").to_numpy()
    weak = table.column("is_weak_negative").to_numpy(zero_copy_only=False).astype(bool)
    for name in dict.fromkeys(splits.tolist()):
        rows = splits == name
        out[name] = binary_metrics(labels[rows], probabilities[rows])
        if weak[rows].any():
            keep = rows & ~weak
            out[f"{name}_without_weak_negatives"] = binary_metrics(
                labels[keep], probabilities[keep]
            )
    return out
