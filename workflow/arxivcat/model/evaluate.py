"""Evaluation of a trained classifier on the validation and test splits (rule ``evaluate``).

The model runs through the one inference path (:mod:`arxivcat.model.inference`: length-sorted
batches, dynamic padding, the precision predict uses).  The validation pass of the kept weights
was already computed by training (:mod:`arxivcat.model.split_scoring`); it is reused when it ran
where this job runs (same device type and precision), so the last validation pass is computed
once per trained model.  Every prediction is saved (id, split, probability, label,
is_weak_negative) so that the metrics can be recomputed, or new ones computed, without the model.
Runs offline: metrics come from scikit-learn.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import write_text_atomic
from arxivcat.io.progress import quiet_progress_bars
from arxivcat.model.inference import Placement, load_for_inference, place
from arxivcat.model.metrics import binary_metrics, pooled_metrics
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.split_scoring import (
    VALIDATION_PASS,
    SplitPredictions,
    read_pass,
    score_split,
    write_predictions,
)
from arxivcat.model.storage import writing
from arxivcat.splits.holdout import HELDOUT

logger = logging.getLogger(__name__)

#: The splits a model is evaluated on (of :data:`arxivcat.splits.methods.SPLITS`), and the
#: held-out newest papers when the split definition holds some out.
EVALUATED_SPLITS = ("validation", "test")


class EvaluationError(ArxivcatError, RuntimeError):
    """A problem with the evaluation's inputs, described in one line."""


def split_metrics(predictions: SplitPredictions, head: int = 0) -> dict[str, dict[str, Any]]:
    """Metrics of one split (of one head), plus those without weak negatives when it has some."""
    labels, probabilities = predictions.head(head)
    loss = predictions.loss if predictions.heads is None else None
    out = {"all": binary_metrics(labels, probabilities, loss)}
    if predictions.is_weak_negative.any():
        keep = ~predictions.is_weak_negative
        out["without_weak_negatives"] = binary_metrics(labels[keep], probabilities[keep])
    return out


def _binary_record(metrics: dict[str, Any], split: SplitPredictions) -> None:
    """A binary model's metrics of ``split`` into ``metrics`` (the reference's layout)."""
    result = split_metrics(split)
    metrics[split.name] = {**result["all"], **_pass_record(split)}
    if "without_weak_negatives" in result:
        metrics[f"{split.name}_without_weak_negatives"] = result["without_weak_negatives"]


def _multi_head_record(metrics: dict[str, Any], split: SplitPredictions) -> None:
    """A multi-head model's metrics of ``split``: each head's, and the pooled ones."""
    assert split.heads is not None
    for index, head in enumerate(split.heads):
        result = split_metrics(split, index)
        entry = metrics.setdefault("heads", {}).setdefault(head, {})
        entry[split.name] = result["all"]
        if "without_weak_negatives" in result:
            entry[f"{split.name}_without_weak_negatives"] = result["without_weak_negatives"]
    metrics[split.name] = {
        **pooled_metrics(split.labels, split.probabilities > 0.5),
        "loss": split.loss,
        "samples": len(split.ids),
        **_pass_record(split),
    }


def _pass_record(split: SplitPredictions) -> dict[str, Any]:
    return {"runtime_seconds": round(split.stats.seconds, 3), "pass": split.stats.to_dict()}


def _training_pass(model_dir: Path, split: Any, placement: Placement) -> SplitPredictions | None:
    """Training's validation pass of the kept weights, when it ran as this job would run."""
    path = model_dir / VALIDATION_PASS
    if not path.is_file():
        return None
    saved = read_pass(path)
    if saved.stats.placement != placement.describe():
        logger.info(
            "validation: the training's pass ran on %s, this job runs on %s: scoring again",
            saved.stats.placement,
            placement.describe(),
        )
        return None
    if saved.ids != [str(i) for i in split["id"]]:
        logger.warning("validation: %s holds other rows than the split: scoring again", path)
        return None
    logger.info("validation: the training's last pass of these weights (%s) is reused", path)
    return saved


def _score(
    model: Any,
    model_dir: Path,
    dataset: Any,
    placement: Placement,
    settings: TrainingSettings,
) -> list[SplitPredictions]:
    """The predictions of every evaluated split."""
    out = []
    held = (HELDOUT,) if HELDOUT in dataset and len(dataset[HELDOUT]) else ()
    for name in (*EVALUATED_SPLITS, *held):
        reused = None
        if name == "validation":
            reused = _training_pass(model_dir, dataset[name], placement)
        out.append(
            reused
            or score_split(
                model,
                dataset[name],
                settings.eval_batch_size,
                placement,
                name,
                settings.progress_seconds,
            )
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
            (each with its pass's record under ``pass``) and
            ``"validation_without_weak_negatives"`` when validation holds weak negatives.  A
            multi-head model's splits hold the pooled metrics (micro-averaged, and
            ``macro_f1``) and ``"heads"`` each head's, in the binary layout.
        predictions_path: Where to write the predictions parquet (id, split, probability,
            label, is_weak_negative).
        settings: The experiment's training settings (``device``, ``precision``,
            ``max_length``, ``eval_batch_size`` and ``progress_seconds`` are used).

    Returns:
        The metrics written.

    Raises:
        EvaluationError: If an input is missing or unusable.
        StorageError: If the disk is full or an output may not be written (names the path).
    """
    from datasets import DatasetDict

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
    for name in EVALUATED_SPLITS:
        if len(dataset[name]) == 0:
            raise EvaluationError(f"{dataset_dir}: the {name} split is empty")

    quiet_progress_bars()
    placement = place(settings.device, settings.precision, settings.max_length)
    model = load_for_inference(model_dir, placement)
    logger.info(
        "evaluating %s on %s, batch %d", model_dir, placement.describe(), settings.eval_batch_size
    )
    metrics: dict[str, Any] = {}
    predictions = _score(model, model_dir, dataset, placement, settings)
    for split in predictions:
        record = _binary_record if split.heads is None else _multi_head_record
        record(metrics, split)
        m = metrics[split.name]
        logger.info(
            "%s: F1 %.4f, precision %.4f, recall %.4f, accuracy %.4f (%d rows; micro over heads "
            "for a multi-head model)",
            split.name, m["f1"], m["precision"], m["recall"], m["accuracy"], len(split.ids),
        )  # fmt: skip
    with writing(predictions_path, "predictions"):
        write_predictions([split.table() for split in predictions], predictions_path)
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
