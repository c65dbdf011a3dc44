"""The model stages' settings: one experiment's validated ``training`` block as a typed object.

The fields are the keys of the schema's ``training`` block (``config/schema.yaml``), which is their
only source of defaults and checks; the workflow validates the configuration and the rule scripts
build :class:`TrainingSettings` from the plain dict they receive in ``params``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from arxivcat.errors import ArxivcatError


class SettingsError(ArxivcatError, ValueError):
    """Training settings with an unknown or a missing key, described in one line."""


@dataclass(frozen=True)
class TrainingSettings:
    """One experiment's training settings (see the schema's ``training`` block for each key)."""

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
    keep: str

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> TrainingSettings:
        """Build the settings from a validated ``training`` block (every key, nothing else).

        Raises:
            SettingsError: If a key is unknown or missing; the message names them.
        """
        names = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(mapping) - set(names))
        if unknown:
            raise SettingsError(f"unknown training setting(s): {', '.join(unknown)}")
        missing = [name for name in names if name not in mapping]
        if missing:
            raise SettingsError(f"training setting(s) missing: {', '.join(missing)}")
        return cls(**mapping)

    def to_dict(self) -> dict[str, Any]:
        """The settings as the plain ``training`` block they were built from."""
        return dataclasses.asdict(self)
