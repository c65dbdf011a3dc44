"""Typed settings of the data stage: the ``snapshot`` and ``oai`` config blocks.

Built by the rule scripts from the validated config (the schema filled every default and checked
every type and enum); the stage code receives these objects and never reads the schema itself.
Fields are named as the schema keys, except ``oai.from``, a Python keyword, held as ``from_``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Self

from arxivcat.errors import ArxivcatError


class SettingsError(ArxivcatError, ValueError):
    """A settings mapping with a missing or unknown key."""


def _key(field: dataclasses.Field[Any]) -> str:
    return field.name.rstrip("_")


class _Block:
    """``from_dict``/``to_dict`` for a frozen dataclass of one config block."""

    BLOCK = ""

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> Self:
        """Build the settings from a validated config block.

        Raises:
            SettingsError: For a missing or unknown key (named with its block).
        """
        fields = {_key(field): field.name for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(mapping) - set(fields))
        if unknown:
            raise SettingsError(f"{cls.BLOCK}.{unknown[0]}: unknown setting")
        missing = [key for key in fields if key not in mapping]
        if missing:
            raise SettingsError(f"{cls.BLOCK}.{missing[0]}: missing setting")
        return cls(**{name: mapping[key] for key, name in fields.items()})

    def to_dict(self) -> dict[str, Any]:
        """The config block these settings came from (keys as in the schema)."""
        return {
            _key(field): getattr(self, field.name)
            for field in dataclasses.fields(self)  # type: ignore[arg-type]
        }


@dataclasses.dataclass(frozen=True)
class SnapshotSettings(_Block):
    """The ``snapshot`` block (see ``config/schema.yaml`` for each key's meaning)."""

    BLOCK = "snapshot"

    source: str
    sha256: str | None
    missing_abstract: str
    unknown_categories: str
    max_retry_wait: float


@dataclasses.dataclass(frozen=True)
class OAISettings(_Block):
    """The ``oai`` block (see ``config/schema.yaml`` for each key's meaning)."""

    BLOCK = "oai"

    enabled: bool
    base_url: str
    metadata_prefix: str
    sets: tuple[str, ...]
    from_: str | None
    until: str | None
    interval: float
    max_retry_wait: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "sets", tuple(self.sets))
