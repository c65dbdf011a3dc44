"""The train stage: fine-tune a 2-way classifier on a tokenized experiment, resumably.

One entry point, :func:`train_model`, for every executor; the ``device`` setting picks it:

- CUDA: bf16 autocast, SDPA attention, TF32 matmuls, fused AdamW, dynamic padding (to a multiple
  of 8) with length-grouped batches, pinned memory and dataloader workers, optional
  ``torch.compile``.  With several visible GPUs the job re-launches itself under ``torchrun``
  (DDP, :mod:`arxivcat.model.launch`); the effective batch stays ``train_batch_size`` (per-GPU
  batch = batch / GPUs / gradient accumulation steps).
- TPU: torch_xla through PJRT, static shapes (every batch padded to ``max_length``, the last
  incomplete training batch dropped), bf16.
- CPU: fp32 (or bf16 if asked), dynamic padding and length grouping; for tests and the demo.

Resume (:mod:`arxivcat.model.checkpoints`): when a complete checkpoint exists for the run's
settings and data, training resumes from it and says so in the log.  Checkpoints are written every
``checkpoint_minutes`` (and/or every ``checkpoint_steps`` optimizer steps) and at each epoch end.

Progress (:mod:`arxivcat.io.progress`): a log line every ``logging_steps`` steps and at least
every ``progress_seconds``; each validation pass (:mod:`arxivcat.model.validation_pass`) logs
its own progress lines and its metrics.

Best vs last: the last epoch's weights are kept, as in the reference; the epoch with the best
validation F1 is recorded in ``training_info.json`` and, with ``keep: best``, its weights are kept
instead.

Heads fitted first (``head_init: logistic``): before fine-tuning, each head is fitted on the
pretrained encoder's features as the refit fits it (not when resuming: the checkpoint holds the
heads); recorded in ``training_info.json`` (``head_init``).  Under DDP every process fits the same
heads, and DDP starts from process 0's weights anyway.

Heads refit (``refit_heads``, :mod:`arxivcat.model.refit_heads`): the kept weights' heads are
refit on their own encoder's features (with ``keep: last``, the validation rows' from the last
epoch's pass), validation is scored by the new heads on those features, and the refit is
recorded in ``training_info.json`` (``head_refit``).  The seconds of both fits count in
``train_runtime``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import torch
from datasets import DatasetDict
from transformers import AutoTokenizer, TrainerCallback

from arxivcat.io.progress import quiet_progress_bars
from arxivcat.model.checkpoints import BEST_SUBDIR, CheckpointPolicy, open_store, remove_store
from arxivcat.model.devices import claim_gpus, resolve_device, resolve_precision
from arxivcat.model.inference import Placement
from arxivcat.model.launch import batch_layout, relaunch, world_size
from arxivcat.model.loading import load_classifier
from arxivcat.model.loss import ClassifierLoss, positive_weights
from arxivcat.model.record import mean_training_loss, training_info, write_model_dir
from arxivcat.model.refit_heads import classifier_layer, refit_heads
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.split_scoring import read_pass, write_pass
from arxivcat.model.storage import require_space, writing
from arxivcat.model.tokenize import TOKENIZER_SUBDIR, read_heads
from arxivcat.model.tracking import keep_tracker_files, start_trackers
from arxivcat.model.train_progress import RunningLoss, TrainProgress
from arxivcat.model.trainer_extensions import (
    MODEL_COLUMNS,
    ArxivcatTrainer,
    KeepBest,
    data_collator,
    training_arguments,
)
from arxivcat.model.training_steps import StepRecord
from arxivcat.model.validation_pass import LAST_PASS, ValidationPass
from arxivcat.splits.table_schema import column_matrix

logger = logging.getLogger(__name__)


def _training_data(dataset_dir: Path) -> tuple[DatasetDict, Any, list[int]]:
    """The tokenized dataset, its tokenizer and the training rows' token counts."""
    dataset = DatasetDict.load_from_disk(str(dataset_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(dataset_dir / TOKENIZER_SUBDIR))
    lengths = pc.list_value_length(dataset["train"].data.column("input_ids")).to_pylist()
    return dataset, tokenizer, lengths


def _loss(
    dataset: DatasetDict, heads: list[str] | None, settings: TrainingSettings
) -> ClassifierLoss | None:
    """The loss to train with: None keeps the model's own (a binary model, no weights)."""
    labels = column_matrix(dataset["train"].data.column("labels"))
    weights = positive_weights(labels, settings.pos_weight, settings.pos_weight_cap)
    if weights is not None:
        shown = ", ".join(f"{w:.3g}" for w in weights[:10]) + (" ..." if len(weights) > 10 else "")
        logger.info("positives weighted in the loss (pos_weight %s): %s", settings.pos_weight,
                    shown)  # fmt: skip
    if heads is None and weights is None:
        return None
    return ClassifierLoss(heads is not None, weights)


def _build_trainer(
    dataset_dir: Path,
    output_dir: Path,
    store: Path,
    settings: TrainingSettings,
    device: str,
    precision: str,
    num_workers: int,
    resuming: bool,
) -> tuple[ArxivcatTrainer, dict[str, Any] | None]:
    """The Trainer of this run and the record of its heads' fit before training, if any.

    The Trainer holds the model, arguments, data, callbacks and validation pass; the record is
    None unless ``head_init: logistic`` fitted the heads (not when resuming).
    """
    dataset, tokenizer, lengths = _training_data(dataset_dir)
    heads = read_heads(dataset_dir)
    columns = [c for c in MODEL_COLUMNS if c in dataset["train"].column_names]
    train = dataset["train"].select_columns(columns)
    per_device, accumulation = batch_layout(settings, world_size())
    steps_per_epoch = max(1, len(train) // (per_device * accumulation * world_size()))
    model = load_classifier(
        settings.model,
        seed=settings.seed,
        attn_implementation="eager" if device == "tpu" else "sdpa",
        heads=heads,
    )
    if settings.refit_heads or settings.head_init == "logistic":
        classifier_layer(model)  # a model the refit cannot serve is refused now, not after training
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    # A lower bound: one checkpoint (weights and two AdamW moments) plus the best and final models.
    best = weights if settings.keep == "best" else 0
    require_space({store: 3 * weights + best, output_dir.parent: weights})
    start_trackers(settings.report_to, store)
    args = training_arguments(
        settings, device, precision, store, steps_per_epoch, num_workers, str(output_dir)
    )
    inference = Placement(
        args.device,
        resolve_precision(settings.precision, device, inference=True),
        settings.max_length if device == "tpu" else None,
    )
    head_init = None
    if settings.head_init == "logistic" and not resuming:
        head_init, _ = refit_heads(
            model, train, dataset["validation"], args.per_device_eval_batch_size, inference,
            settings.progress_seconds, settings.refit_max_rows, settings.seed, "pretrained",
        )  # fmt: skip
    running_loss, step_record = RunningLoss(), StepRecord()
    callbacks: list[TrainerCallback] = [
        CheckpointPolicy(settings.checkpoint_minutes),
        TrainProgress(running_loss, args.logging_steps, settings.progress_seconds),
        step_record,
    ]
    if settings.keep == "best":
        callbacks.append(KeepBest(store / BEST_SUBDIR))
    trainer = ArxivcatTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=dataset["validation"].select_columns(columns),
        processing_class=tokenizer,
        data_collator=data_collator(tokenizer, device, settings.max_length),
        callbacks=callbacks,
        train_lengths=lengths,
        running_loss=running_loss,
        step_record=step_record,
        loss=_loss(dataset, heads, settings),
        validation=ValidationPass(
            dataset["validation"],
            inference,
            args.per_device_eval_batch_size,
            settings.progress_seconds,
            store,
            keep_features=settings.refit_heads,
        ),
    )
    return trainer, head_init


def _refit(
    trainer: ArxivcatTrainer, settings: TrainingSettings, info: dict[str, Any], last: bool
) -> Path:
    """Refit the kept weights' heads (``refit_heads``) and save their validation pass.

    When the kept weights are the ``last`` and the last epoch's pass ran on them, the refit
    fits on that pass's features.  Its seconds are added to ``train_runtime``, so that every
    record of the training's cost (cards, summary) counts them.
    """
    started = time.monotonic()
    check = trainer.validation
    step, latest = check.latest or (None, None)
    reusable = latest if last and step == trainer.state.global_step else None
    # Not check.run: under DDP it gathers shares from processes that have already returned.
    info["head_refit"], scored = refit_heads(
        trainer.model, trainer.train_dataset, check.split, check.batch_size, check.placement,
        settings.progress_seconds, settings.refit_max_rows, settings.seed, scored=reusable,
    )  # fmt: skip
    write_pass(scored, check.store / LAST_PASS)
    seconds = time.monotonic() - started
    info["head_refit"]["seconds_in_train_runtime"] = round(seconds, 2)
    info["train_runtime"] = round((info.get("train_runtime") or 0.0) + seconds, 4)
    return check.store / LAST_PASS


def _finish(
    trainer: ArxivcatTrainer,
    result: Any,
    store: Path,
    output_dir: Path,
    settings: TrainingSettings,
    info: dict[str, Any],
) -> None:
    """Process 0: keep the best epoch's weights if asked, write the model directory, clean up."""
    kept = store / BEST_SUBDIR
    if settings.keep == "best" and kept.is_dir():
        from safetensors.torch import load_file

        weights = load_file(str(kept / "model.safetensors"))
        trainer.model.load_state_dict(weights, strict=False)
        logger.info(
            "keeping the best epoch (%s, F1 %.4f) instead of the last",
            info["best_epoch"],
            info["best_validation_f1"],
        )
    else:
        kept = store
    validation = kept / LAST_PASS
    if settings.refit_heads:
        validation = _refit(trainer, settings, info, kept == store)
    if validation.is_file():
        info["validation_pass"] = read_pass(validation).stats.to_dict()
    write_model_dir(trainer, output_dir, result.metrics, info, validation)
    keep_tracker_files(store, output_dir)
    remove_store(store)


def train_model(
    dataset_dir: str | Path,
    output_dir: str | Path,
    checkpoint_dir: str | Path,
    settings: TrainingSettings,
    num_workers: int = 1,
) -> dict[str, Any]:
    """Fine-tune the experiment's classifier and write the model directory.

    Args:
        dataset_dir: The tokenized dataset (``DatasetDict.save_to_disk`` output with a
            ``tokenizer/`` subdirectory).
        output_dir: The model directory to write (safetensors weights, config, tokenizer,
            ``trainer_state.json``, ``train_results.json``, ``all_results.json``,
            ``training_info.json``, and the kept weights' validation pass).
        checkpoint_dir: The experiment's checkpoint store; each run keys a subdirectory.
        settings: The experiment's training settings.
        num_workers: CPU threads the job may use (dataloader workers, CPU training threads).

    Returns:
        The contents of ``training_info.json`` (only process 0 writes it; another process
        returns its record without what process 0 adds while finishing, e.g. the head refit).

    Raises:
        TrainingError: On a set-up problem or a failed or interrupted distributed run.
        StorageError: If the disk is full or a directory may not be written (names the path).
    """
    dataset_dir, output_dir, checkpoint_dir = map(Path, (dataset_dir, output_dir, checkpoint_dir))
    quiet_progress_bars()
    if settings.device in ("auto", "cuda") and world_size() == 1:
        claim_gpus(settings.gpus)
    device = resolve_device(settings.device)
    precision = resolve_precision(settings.precision, device)
    if device == "cuda" and world_size() == 1 and torch.cuda.device_count() > 1:
        processes = torch.cuda.device_count()
        relaunch(dataset_dir, output_dir, checkpoint_dir, settings, num_workers, processes)
        return json.loads((output_dir / "training_info.json").read_text(encoding="utf-8"))
    if device == "cpu":
        torch.set_num_threads(max(1, num_workers))

    started = time.monotonic()
    store, resume = open_store(checkpoint_dir, settings, dataset_dir)
    trainer, head_init = _build_trainer(
        dataset_dir, output_dir, store, settings, device, precision, num_workers, resume is not None
    )
    args = trainer.args
    logger.info(
        "training %s on %s (%s): %d train / %d validation rows, batch %d (%d per device x %d "
        "accumulation x %d processes), %s epochs",
        settings.model, device, precision, len(trainer.train_dataset),
        len(trainer.eval_dataset), settings.train_batch_size, args.per_device_train_batch_size,
        args.gradient_accumulation_steps, world_size(), settings.num_epochs,
    )  # fmt: skip
    with writing(store, "checkpoint store"):
        result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    if resume is not None:
        mean_loss = mean_training_loss(trainer.state.log_history)
        if mean_loss is not None:
            result.metrics["train_loss"] = mean_loss
            for entry in trainer.state.log_history:
                if "train_loss" in entry:
                    entry["train_loss"] = mean_loss
    info = training_info(
        trainer, result.metrics, settings, device, precision, resume, time.monotonic() - started
    )
    info["training_steps"] = trainer.step_record.summary()
    if head_init is not None:
        info["head_init"] = head_init
        info["train_runtime"] = round((info.get("train_runtime") or 0.0) + head_init["seconds"], 4)
    weights = trainer.loss.weights if trainer.loss is not None else None
    info["positive_weights"] = None if weights is None else [round(float(w), 4) for w in weights]
    # Process 0 finishes alone; the others return without waiting in a collective, whose timeout
    # (the Trainer's ddp_timeout, 30 min) a long head refit would outlast.  The launcher waits
    # for every process.
    if trainer.is_world_process_zero():
        _finish(trainer, result, store, output_dir, settings, info)
    return info


def main(argv: list[str] | None = None) -> None:
    """Command line of each torchrun process (``python -m arxivcat.model.train``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--checkpoint-dir", required=True)
    parser.add_argument("--settings", required=True, help="JSON file with the training settings")
    parser.add_argument("--num-workers", type=int, default=1)
    options = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if int(os.environ.get("RANK", "0")) == 0 else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = json.loads(Path(options.settings).read_text(encoding="utf-8"))
    train_model(
        dataset_dir=options.dataset_dir,
        output_dir=options.output_dir,
        checkpoint_dir=options.checkpoint_dir,
        settings=TrainingSettings.from_dict(settings),
        num_workers=options.num_workers,
    )


if __name__ == "__main__":
    main()
