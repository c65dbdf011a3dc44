"""What the train stage adds to the Hugging Face Trainer: arguments, batches, metrics, best weights.

- :func:`training_arguments` maps the experiment's settings onto ``TrainingArguments`` per device
  (CUDA: bf16, TF32, fused AdamW, pinned memory; TPU: static shapes, last batch dropped; CPU).
- :class:`ArxivcatTrainer` draws length-grouped batches from precomputed lengths with a sampler
  whose order depends only on seed and epoch (so a resumed run sees the same batches), feeds
  each step's loss to the progress log, and validates through the one inference path
  (:class:`~arxivcat.model.validation_pass.ValidationPass`).
- :class:`KeepBest` saves the weights (and validation pass) of the best validation F1 so far
  (``keep: best``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from transformers import (
    DataCollatorWithPadding,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)
from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

from arxivcat.model.inference import MODEL_INPUTS
from arxivcat.model.launch import batch_layout, world_size
from arxivcat.model.loss import ClassifierLoss
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.storage import writing
from arxivcat.model.train_progress import RunningLoss
from arxivcat.model.training_steps import StepRecord
from arxivcat.model.validation_pass import LAST_PASS, ValidationPass

logger = logging.getLogger(__name__)

#: The columns the Trainer feeds the model.
MODEL_COLUMNS = (*MODEL_INPUTS, "labels")


def training_arguments(
    settings: TrainingSettings,
    device: str,
    precision: str,
    store: Path,
    steps_per_epoch: int,
    num_workers: int,
    run_name: str,
) -> TrainingArguments:
    """Build the Trainer's arguments for ``device`` from the experiment's settings.

    ``run_name`` names the run in the trackers of ``report_to``.
    """
    per_device, accumulation = batch_layout(settings, world_size())
    workers = settings.dataloader_workers
    if workers is None:
        workers = 0 if device == "cpu" else max(0, min(num_workers - 1, 8))
    checkpoint_steps = settings.checkpoint_steps
    warmup_steps = math.ceil(settings.warmup_ratio * steps_per_epoch * float(settings.num_epochs))
    return TrainingArguments(
        output_dir=str(store),
        per_device_train_batch_size=per_device,
        per_device_eval_batch_size=max(1, settings.eval_batch_size // world_size()),
        gradient_accumulation_steps=accumulation,
        learning_rate=float(settings.learning_rate),
        weight_decay=float(settings.weight_decay),
        adam_beta1=0.9,
        adam_beta2=0.999,
        adam_epsilon=1e-8,
        num_train_epochs=float(settings.num_epochs),
        lr_scheduler_type=settings.lr_scheduler_type,
        warmup_steps=warmup_steps,
        seed=settings.seed,
        eval_strategy="epoch",
        logging_strategy="steps",
        logging_steps=max(1, min(settings.logging_steps, steps_per_epoch)),
        save_strategy="steps",
        save_steps=checkpoint_steps if checkpoint_steps else 10**9,
        save_total_limit=1,
        report_to=list(settings.report_to),
        run_name=run_name,
        disable_tqdm=True,
        bf16=precision == "bf16",
        tf32=True if device == "cuda" else None,
        optim="adamw_torch_fused" if device == "cuda" else "adamw_torch",
        use_cpu=device == "cpu",
        dataloader_num_workers=workers,
        dataloader_pin_memory=device == "cuda",
        dataloader_persistent_workers=workers > 0,
        dataloader_drop_last=device == "tpu",
        train_sampling_strategy=(
            "group_by_length" if settings.group_by_length and device != "tpu" else "random"
        ),
        torch_compile=settings.torch_compile,
        ddp_find_unused_parameters=False,
    )


def data_collator(
    tokenizer: PreTrainedTokenizerBase, device: str, max_length: int
) -> DataCollatorWithPadding:
    """Static padding to ``max_length`` on TPU; dynamic padding (multiple of 8 on GPU) elsewhere."""
    if device == "tpu":
        return DataCollatorWithPadding(tokenizer, padding="max_length", max_length=max_length)
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8 if device == "cuda" else None)


class KeepBest(TrainerCallback):
    """Save the weights of the best-F1 evaluation so far into the checkpoint store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def on_evaluate(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Save the model when this evaluation's F1 beats every earlier one."""
        metrics = kwargs.get("metrics") or {}
        if "eval_f1" not in metrics or not state.is_world_process_zero:
            return control
        earlier = [e["eval_f1"] for e in state.log_history[:-1] if "eval_f1" in e]
        if earlier and metrics["eval_f1"] <= max(earlier):
            return control
        partial = self.directory.with_name(self.directory.name + ".partial")
        with writing(partial, "best-epoch weights", partial=partial):
            shutil.rmtree(partial, ignore_errors=True)
            kwargs["model"].save_pretrained(partial)
            shutil.copyfile(self.directory.parent / LAST_PASS, partial / LAST_PASS)
            (partial / "epoch.json").write_text(
                json.dumps({"epoch": state.epoch, "eval_f1": metrics["eval_f1"]}), encoding="utf-8"
            )
            shutil.rmtree(self.directory, ignore_errors=True)
            os.replace(partial, self.directory)
        logger.info("new best validation F1 %.4f at epoch %.2f", metrics["eval_f1"], state.epoch)
        return control


class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
    """Length-grouped batches whose order depends only on the seed and the epoch.

    The stock sampler draws from the global RNG, whose state at an epoch's start differs between
    an uninterrupted run and one resumed from a checkpoint; seeding by epoch makes a resumed run
    see the same batches.
    """

    def __init__(self, batch_size: int, lengths: list[int], seed: int) -> None:
        super().__init__(batch_size, lengths=lengths)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer (through accelerate) at each epoch start."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        """Indices of one epoch, batched by similar length, megabatch order shuffled."""
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))


class ArxivcatTrainer(Trainer):
    """A Trainer with a resumable length-grouped sampler and the one inference path's validation.

    Args:
        train_lengths: Token count of each training row (for length grouping).
        running_loss: Where each training step's loss is added (for the progress log).
        validation: Scores the validation split at each evaluation.
        step_record: Where each training batch is counted (for ``training_info.json``).
        loss: The loss of a multi-head model or of weighted positives; None keeps the model's.
    """

    def __init__(
        self,
        *args: Any,
        train_lengths: list[int] | None = None,
        running_loss: RunningLoss | None = None,
        validation: ValidationPass | None = None,
        step_record: StepRecord | None = None,
        loss: ClassifierLoss | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.train_lengths = train_lengths
        self.running_loss = running_loss
        self.validation = validation
        self.step_record = step_record
        self.loss = loss
        if loss is not None:
            # A batch mean: the Trainer scales it for gradient accumulation itself.
            self.loss_is_scaled_for_ga = False

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        """The model's own loss, or :attr:`loss` on its logits when one is set."""
        if self.loss is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        loss = self.loss(outputs.logits, labels)
        return (loss, outputs) if return_outputs else loss

    def evaluate(
        self,
        eval_dataset: Any = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ) -> dict[str, float]:
        """The validation pass (:class:`ValidationPass`), logged as the Trainer logs its own."""
        if self.validation is None or eval_dataset is not None:
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        metrics = self.validation.run(self.model, metric_key_prefix, self.state.global_step)
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(
            self.args, self.state, self.control, metrics
        )
        return metrics

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        if self.args.train_sampling_strategy == "group_by_length" and self.train_lengths:
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            return EpochSeededLengthGroupedSampler(
                self.args.train_batch_size * self.args.gradient_accumulation_steps,
                lengths=self.train_lengths,
                seed=seed,
            )
        return super()._get_train_sampler(train_dataset)

    def training_step(self, model: Any, inputs: Any, *args: Any, **kwargs: Any) -> torch.Tensor:
        """One micro-batch; its loss (scaled for accumulation) also goes to the progress log."""
        loss = super().training_step(model, inputs, *args, **kwargs)
        if self.running_loss is not None:
            self.running_loss.add(loss)
        if self.step_record is not None:
            self.step_record.count(inputs)
        return loss
