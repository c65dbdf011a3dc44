"""Typed training settings for tests: the schema's defaults with a test's overrides."""

from __future__ import annotations

from typing import Any

from arxivcat.config import schema_defaults
from arxivcat.model.settings import TrainingSettings

#: One epoch of the project's tiny BERT on CPU: the training of the stage's fault and DDP tests.
TINY_TRAINING = {
    "model": "builtin:tiny-bert",
    "max_length": 64,
    "num_epochs": 1,
    "learning_rate": 2e-3,
    "train_batch_size": 16,
    "device": "cpu",
}


def training_settings(**overrides: Any) -> TrainingSettings:
    """The schema's ``training`` defaults, with ``overrides``, as the rule scripts build them."""
    return TrainingSettings.from_dict({**schema_defaults("training"), **overrides})
