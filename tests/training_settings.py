"""Typed training settings for tests: the schema's defaults with a test's overrides."""

from __future__ import annotations

from typing import Any

from arxivcat.config import schema_defaults
from arxivcat.model.settings import TrainingSettings


def training_settings(**overrides: Any) -> TrainingSettings:
    """The schema's ``training`` defaults, with ``overrides``, as the rule scripts build them."""
    return TrainingSettings.from_dict({**schema_defaults("training"), **overrides})
