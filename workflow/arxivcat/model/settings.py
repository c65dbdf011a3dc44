"""The model stages' settings: one experiment's validated ``training`` block as a typed object.

The fields are the keys of the schema's ``training`` block (``config/schema.yaml``), which is their
only source of defaults and checks; the workflow validates the configuration and the rule scripts
build :class:`TrainingSettings` from the plain dict they receive in ``params``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arxivcat.stage_settings import StageSettings

#: Settings that change how often checkpoints, log lines or tracker records are written, or how
#: data are loaded, not the result: changing one never orphans a checkpoint, and the summary does
#: not compare models by them.
OPERATIONAL_KEYS = frozenset(
    {
        "checkpoint_minutes",
        "checkpoint_steps",
        "dataloader_workers",
        "progress_seconds",
        "report_to",
    }
)


@dataclass(frozen=True)
class TrainingSettings(StageSettings):
    """One experiment's training settings (see the schema's ``training`` block for each key)."""

    BLOCK: ClassVar[str] = "training"

    model: str
    max_length: int
    learning_rate: float
    train_batch_size: int
    eval_batch_size: int
    seed: int
    num_epochs: float
    lr_scheduler_type: str
    warmup_ratio: float
    weight_decay: float
    device: str
    precision: str
    gpus: int
    gradient_accumulation_steps: int
    group_by_length: bool
    torch_compile: bool
    dataloader_workers: int | None
    logging_steps: int
    progress_seconds: float
    checkpoint_minutes: float | None
    checkpoint_steps: int | None
    pos_weight: float | str | None
    pos_weight_cap: float
    head_init: str
    refit_heads: bool
    refit_max_rows: int | None
    report_to: tuple[str, ...]
    keep: str
