"""The train log's progress: a line every few steps or seconds, and each validation's metrics.

:class:`RunningLoss` sums the step losses on the device between two lines (no sync per step);
:class:`TrainProgress` writes the line (step/total, epoch, mean loss, learning rate, samples/s,
elapsed, ETA) and each validation pass's metrics.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from arxivcat.io.progress import duration

logger = logging.getLogger(__name__)


class RunningLoss:
    """Sum of the training losses since the last progress line, kept on the device (no sync)."""

    def __init__(self) -> None:
        self.total: torch.Tensor | None = None

    def add(self, loss: torch.Tensor) -> None:
        """Add one training step's (or micro-batch's, pre-scaled) loss."""
        loss = loss.detach()
        self.total = loss if self.total is None else self.total + loss

    def take(self, steps: int) -> float | None:
        """Mean loss per optimizer step over ``steps`` steps; restarts the sum."""
        total, self.total = self.total, None
        if total is None or steps <= 0:
            return None
        return float(total.float().item()) / steps


class TrainProgress(TrainerCallback):
    """One log line every ``every_steps`` optimizer steps, at least every ``every_seconds``.

    The line: step/total, epoch, mean loss since the previous line, learning rate, samples/s,
    elapsed time and ETA; each validation pass logs its metrics.  Only process 0 writes; the loss
    is process 0's own (no collective operation, so the clock of one process may decide).
    """

    def __init__(self, loss: RunningLoss, every_steps: int, every_seconds: float) -> None:
        self.loss, self.every_steps, self.every_seconds = loss, every_steps, every_seconds
        self.started = self.last_line = time.monotonic()
        self.first_step = self.last_step = 0

    def on_train_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Start the clock at the first step of this run (a resumed run starts later)."""
        self.started = self.last_line = time.monotonic()
        self.first_step = self.last_step = state.global_step
        return control

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Log the progress line when one is due."""
        step, now = state.global_step, time.monotonic()
        if (
            step % self.every_steps
            and now - self.last_line < self.every_seconds
            and step < state.max_steps
        ):
            return control
        loss = self.loss.take(step - self.last_step)
        self.last_line, self.last_step = now, step
        if not state.is_world_process_zero:
            return control
        elapsed = max(now - self.started, 1e-9)
        done = step - self.first_step
        samples = done * args.per_device_train_batch_size * args.gradient_accumulation_steps
        samples *= max(args.world_size, 1)
        eta = (state.max_steps - step) * elapsed / done if done else float("nan")
        scheduler = kwargs.get("lr_scheduler")
        rate = scheduler.get_last_lr()[0] if scheduler is not None else float("nan")
        logger.info(
            "step %d/%d (%.0f%%), epoch %.2f/%g, loss %s, lr %.3g, %.1f samples/s, "
            "elapsed %s, ETA %s",
            step,
            state.max_steps,
            100 * step / max(state.max_steps, 1),
            state.epoch or 0.0,
            args.num_train_epochs,
            f"{loss:.4f}" if loss is not None else "n/a",
            rate,
            samples / elapsed,
            duration(elapsed),
            duration(eta) if eta == eta else "?",
        )
        return control

    def on_evaluate(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Log the validation pass's metrics."""
        metrics = kwargs.get("metrics") or {}
        if state.is_world_process_zero and "eval_loss" in metrics:
            shown = ("f1", "precision", "recall", "accuracy", "loss")
            logger.info(
                "validation at step %d (epoch %.2f): %s (%.1f s)",
                state.global_step,
                state.epoch or 0.0,
                ", ".join(
                    f"{key} {metrics[f'eval_{key}']:.4f}"
                    for key in shown
                    if f"eval_{key}" in metrics
                ),
                metrics.get("eval_runtime", float("nan")),
            )
        return control
