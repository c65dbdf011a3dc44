"""Typed settings of the data stage: the ``snapshot`` and ``oai`` config blocks.

Built by the rule scripts from the validated config (the schema filled every default and checked
every type and enum); the stage code receives these objects and never reads the schema itself.
Fields are named as the schema keys, except ``oai.from``, a Python keyword, held as ``from_``.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from arxivcat.stage_settings import StageSettings


@dataclasses.dataclass(frozen=True)
class SnapshotSettings(StageSettings):
    """The ``snapshot`` block (see ``config/schema.yaml`` for each key's meaning)."""

    BLOCK: ClassVar[str] = "snapshot"

    source: str
    sha256: str | None
    missing_abstract: str
    unknown_categories: str
    max_retry_wait: float


@dataclasses.dataclass(frozen=True)
class OAISettings(StageSettings):
    """The ``oai`` block (see ``config/schema.yaml`` for each key's meaning)."""

    BLOCK: ClassVar[str] = "oai"

    enabled: bool
    base_url: str
    metadata_prefix: str
    sets: tuple[str, ...]
    from_: str | None
    until: str | None
    interval: float
    max_retry_wait: float
