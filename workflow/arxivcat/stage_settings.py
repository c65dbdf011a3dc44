"""The base of every stage's typed settings: strict construction from a validated config block.

A stage's settings are a frozen dataclass whose fields are named exactly as the keys of its
config block (see ``config/schema.yaml``, the only source of defaults).  :meth:`from_dict`
takes the block as the rule passes it (validated, defaults filled) and refuses a missing or an
unknown key with one line naming it; a field whose type is itself a :class:`StageSettings` is
built from the nested block.  A key that is a Python keyword (``oai.from``) is held in a field
with a trailing underscore (``from_``).  :meth:`to_dict` gives the block back (lists for
tuples), so that a stage can record its settings as plain JSON.  Imports nothing heavy, so a
stage's code digest stays narrow.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from arxivcat.errors import ArxivcatError


class SettingsError(ArxivcatError, ValueError):
    """A settings block that does not fit its settings class (missing or unknown key)."""


def _plain(value: Any) -> Any:
    if isinstance(value, StageSettings):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _key(field: dataclasses.Field[Any]) -> str:
    return field.name.rstrip("_")


@dataclasses.dataclass(frozen=True)
class StageSettings:
    """Frozen settings of one config block; subclasses declare the block's keys as fields."""

    #: The block's config path, for error messages when :meth:`from_dict` is not given one.
    BLOCK: ClassVar[str] = ""

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any], block: str = "") -> Self:
        """Build the settings from a validated config block.

        Args:
            mapping: The block, every key present (the schema's defaults filled in).
            block: The block's config path (``weak_negatives``), for error messages; default
                :attr:`BLOCK`.

        Raises:
            SettingsError: For a missing or unknown key, naming it.
        """
        block = block or cls.BLOCK
        where = f"{block}." if block else ""
        if not isinstance(mapping, Mapping):
            raise SettingsError(f"{block or cls.__name__}: expected a mapping, got {mapping!r}")
        keys = {_key(field): field.name for field in dataclasses.fields(cls)}
        unknown = [key for key in mapping if key not in keys]
        if unknown:
            raise SettingsError(f"{where}{unknown[0]}: unknown key for {cls.__name__}")
        missing = [key for key in keys if key not in mapping]
        if missing:
            raise SettingsError(f"{where}{missing[0]}: missing (settings come validated)")
        hints = typing.get_type_hints(cls)
        values = {}
        for key, name in keys.items():
            kind, value = hints[name], mapping[key]
            if isinstance(kind, type) and issubclass(kind, StageSettings):
                value = kind.from_dict(value, f"{where}{key}")
            elif isinstance(value, list):
                value = tuple(value)
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The config block these settings were built from (tuples as lists)."""
        return {
            _key(field): _plain(getattr(self, field.name)) for field in dataclasses.fields(self)
        }
