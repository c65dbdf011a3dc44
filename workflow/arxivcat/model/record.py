"""What a finished training run records: the model directory and its ``training_info.json``.

The Trainer writes its own files (weights, config and tokenizer through ``save_model``,
``trainer_state.json`` through ``save_state``, ``train_results.json``/``all_results.json``
through ``save_metrics``); :func:`training_info` adds what the Trainer does not know: device,
precision, framework versions, the best epoch, which weights were kept, and the full settings.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer, TrainingArguments

from arxivcat.model.launch import world_size
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.split_scoring import VALIDATION_PASS
from arxivcat.model.storage import writing

logger = logging.getLogger(__name__)


def mean_training_loss(log_history: list[dict[str, Any]]) -> float | None:
    """Mean training loss over all steps, from the logged per-window means.

    The Trainer's own ``train_loss`` only covers the steps since a resume; every step belongs to
    exactly one logged window here (a log entry is written with each checkpoint).
    """
    total, previous = 0.0, 0
    for entry in log_history:
        if "loss" in entry and "step" in entry:
            total += entry["loss"] * (entry["step"] - previous)
            previous = entry["step"]
    return total / previous if previous else None


def best_epoch(log_history: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """Return ``(epoch, eval_f1)`` of the evaluation with the highest F1 (first one on ties)."""
    best: tuple[float | None, float | None] = (None, None)
    for entry in log_history:
        if "eval_f1" in entry and (best[1] is None or entry["eval_f1"] > best[1]):
            best = (entry.get("epoch"), entry["eval_f1"])
    return best


def framework_versions(device: str) -> dict[str, str]:
    """Versions of the libraries that trained the model."""
    import datasets
    import tokenizers
    import transformers

    versions = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "datasets": datasets.__version__,
        "tokenizers": tokenizers.__version__,
        "python": platform.python_version(),
    }
    if device == "cuda" and torch.version.cuda:
        versions["cuda"] = torch.version.cuda
    if device == "tpu":
        import torch_xla

        versions["torch_xla"] = torch_xla.__version__
    return versions


def device_description(device: str) -> tuple[str, int]:
    """A readable name of the device and how many of them this run uses."""
    if device == "cuda":
        return torch.cuda.get_device_name(0), max(world_size(), 1)
    if device == "tpu":
        return f"xla:{os.environ.get('PJRT_DEVICE', 'TPU')}", world_size()
    return (
        f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        world_size(),
    )


def training_info(
    trainer: Trainer,
    metrics: dict[str, Any],
    settings: TrainingSettings,
    device: str,
    precision: str,
    resumed_from: Path | None,
    wall_seconds: float,
) -> dict[str, Any]:
    """The contents of ``training_info.json`` for a finished run."""
    args: TrainingArguments = trainer.args
    epoch, f1 = best_epoch(trainer.state.log_history)
    name, count = device_description(device)
    return {
        "device": name,
        "device_type": device,
        "device_count": count,
        "precision": precision,
        "distributed_type": str(trainer.accelerator.distributed_type).split(".")[-1],
        "train_samples_per_second": metrics.get("train_samples_per_second"),
        "train_runtime": metrics.get("train_runtime"),
        "train_samples": len(trainer.train_dataset),
        "resumed_from_step": int(resumed_from.name.split("-")[1]) if resumed_from else None,
        "best_epoch": epoch,
        "best_validation_f1": f1,
        "kept": settings.keep,
        "framework_versions": framework_versions(device),
        "hyperparameters": {
            **settings.to_dict(),
            "adam_beta1": args.adam_beta1,
            "adam_beta2": args.adam_beta2,
            "adam_epsilon": args.adam_epsilon,
            "per_device_train_batch_size": args.per_device_train_batch_size,
            "warmup_steps": args.warmup_steps,
        },
        "wall_seconds": round(wall_seconds, 1),
    }


def write_model_dir(
    trainer: Trainer,
    output_dir: Path,
    metrics: dict[str, Any],
    info: dict[str, Any],
    validation_pass: Path | None = None,
) -> None:
    """Write the final model directory under a temporary name and rename it into place.

    Call on process 0 only, after training: the Trainer's own savers write to its output
    directory, which is pointed at the temporary directory here.  ``validation_pass``, the kept
    weights' validation predictions, is copied in as ``VALIDATION_PASS`` when it exists.
    """
    partial = output_dir.with_name(output_dir.name + ".partial")
    with writing(partial, "model directory", partial=partial):
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        trainer.args.output_dir = str(partial)
        trainer.save_model(str(partial))
        trainer.save_state()
        trainer.save_metrics("train", {**metrics, "train_samples": info["train_samples"]})
        (partial / "training_info.json").write_text(
            json.dumps(info, indent=2, default=str), encoding="utf-8"
        )
        if validation_pass is not None and validation_pass.is_file():
            shutil.copyfile(validation_pass, partial / VALIDATION_PASS)
        # The pickled TrainingArguments: not needed to load the model, and not portable.
        (partial / "training_args.bin").unlink(missing_ok=True)
        shutil.rmtree(output_dir, ignore_errors=True)
        os.replace(partial, output_dir)
    logger.info("model written to %s", output_dir)
