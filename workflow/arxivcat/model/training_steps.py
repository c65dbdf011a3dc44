"""What each optimizer step of training did: rows, real and padded tokens, wall and CPU seconds.

The train stage always installs a :class:`StepRecord` on its Trainer and keeps its
:meth:`~StepRecord.summary` in ``training_info.json`` (``training_steps``), so that throughput and
padding are read from the record (the card, the benchmarks) instead of being measured around the
stage.  A step's time runs from the end of the previous step (or of an epoch start, a validation
pass or a checkpoint, which are not steps) to its own end, so it includes waiting for the data.
The Trainer waits for each micro-batch's loss (its NaN/inf filter), so on CUDA a step's time is
the device's too, without a synchronization of the record's own.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

#: The first steps are listed one by one: compilation, allocator growth and kernel choice land
#: there, and a benchmark leaves as many of them out as its warm-up needs.
LISTED_STEPS = 10


@dataclass
class StepCost:
    """One optimizer step (all its micro-batches), or a sum of steps."""

    samples: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The record (seconds rounded to the microsecond)."""
        out = asdict(self)
        out["seconds"] = round(self.seconds, 6)
        out["cpu_seconds"] = round(self.cpu_seconds, 6)
        return out


class StepRecord(TrainerCallback):
    """Counts the batches the Trainer feeds the model and times its optimizer steps.

    The Trainer calls :meth:`count` with every micro-batch; the callback hooks close a step at
    its end.  Real tokens are summed on the device and read once, in :meth:`summary`, so
    counting never waits for the device.  Under DDP each process records its own batches.
    """

    def __init__(self) -> None:
        self.steps: list[StepCost] = []
        self._real: list[torch.Tensor | int] = []  # each step's real tokens, maybe on the device
        self._open = StepCost()
        self._real_open: torch.Tensor | int = 0
        self._mark = (time.perf_counter(), time.process_time())

    def count(self, inputs: dict[str, Any]) -> None:
        """Add one micro-batch (``input_ids``, ``attention_mask``) to the current step."""
        ids = inputs["input_ids"]
        self._open.samples += int(ids.shape[0])
        self._open.padded_tokens += int(ids.numel())
        mask = inputs.get("attention_mask")
        real = mask.sum() if mask is not None else int(ids.numel())
        self._real_open = self._real_open + real

    def _new_mark(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Start the next step's clock here: what came before belongs to no step."""
        self._mark = (time.perf_counter(), time.process_time())
        return control

    # Training's start, an epoch's start, a validation pass and a checkpoint are no step's time.
    on_train_begin = on_epoch_begin = on_evaluate = on_save = _new_mark

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Close the step: its time since the previous mark, and the batches it counted."""
        wall, cpu = self._mark
        self._new_mark(args, state, control)
        self._open.seconds = self._mark[0] - wall
        self._open.cpu_seconds = self._mark[1] - cpu
        self.steps.append(self._open)
        self._real.append(self._real_open)
        self._open, self._real_open = StepCost(), 0
        return control

    def summary(self) -> dict[str, Any]:
        """Totals of the steps of this run, their times, and the first steps one by one.

        A resumed run records the steps it ran itself, not those before the checkpoint.
        """
        for step, real in zip(self.steps, self._real, strict=True):
            step.real_tokens = int(real)  # after training: waiting for the device costs nothing
        total = StepCost(*(sum(getattr(s, f.name) for s in self.steps) for f in fields(StepCost)))
        times = [s.seconds for s in self.steps] or [0.0]
        return {
            "steps": len(self.steps),
            **total.to_dict(),
            "samples_per_second": round(total.samples / total.seconds, 2) if total.seconds else 0.0,
            "step_seconds": {
                "median": round(statistics.median(times), 6),
                "max": round(max(times), 6),
            },
            "first_steps": [s.to_dict() for s in self.steps[:LISTED_STEPS]],
        }
