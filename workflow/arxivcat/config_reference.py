"""The configuration reference, ``config/README.md``, written from the schema.

Every key of ``schema.yaml`` becomes a row (dotted path, type, default, description), grouped by
top-level block, so the page the workflow catalog and snakedeploy show users says what the
schema says.  ``python -m arxivcat.config_reference > config/README.md`` rewrites it;
``tests/test_config_reference.py`` fails while the committed page differs from the schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from arxivcat.config import load_schema

INTRO = """# Configuration

`config/config.yaml` holds the reference experiments; pass your own file with `--configfile`, or
as a module's `config:`.  Every key is checked against `config/schema.yaml` before any job runs,
and the defaults below are filled in.  Generated from the schema by `python -m
arxivcat.config_reference` (do not edit by hand).

`<name>` stands for a name you choose (an experiment, a split definition, a corpus).  An
experiment's `training` block takes the keys of the global `training` block and overrides them;
its `grid` turns it into a sweep (one experiment per combination of values).
"""


HEADER = "| key | type | default | description |"


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _type(node: dict[str, Any]) -> str:
    if "enum" in node:
        return "one of " + ", ".join(f"`{value}`" for value in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    if "oneOf" in node:
        return " or ".join(_type(option) for option in node["oneOf"])
    kind = node.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    text = " or ".join("null" if k == "null" else k for k in kinds)
    if "array" in kinds and isinstance(node.get("items"), dict):
        text += f" of {_type(node['items'])}"
    return text


def _default(node: dict[str, Any]) -> str:
    if "default" not in node or isinstance(node["default"], dict):
        return ""
    return f"`{json.dumps(node['default'])}`"


def _rows(
    node: dict[str, Any], root: dict[str, Any], path: str, listed: dict[str, str]
) -> Iterator[tuple[str, ...]]:
    """(key, type, default, description) of ``node`` at ``path`` and of every key below it.

    The keys of a shared definition (``$ref``) are listed where it first occurs; ``listed`` maps
    each definition to that path, which later occurrences name instead.
    """
    ref = node.get("$ref")
    resolved = _resolve(node, root)
    description = " ".join(str(resolved.get("description", "")).split())
    if ref in listed:
        description += f" Its keys are those of `{listed[ref]}`."
    yield f"`{path}`", _type(resolved), _default(resolved), description
    if ref in listed:
        return
    if ref is not None:
        listed[ref] = path
    for key, child in resolved.get("properties", {}).items():
        yield from _rows(child, root, f"{path}.{key}", listed)
    extra = resolved.get("additionalProperties")
    if isinstance(extra, dict) and ("properties" in extra or "$ref" in extra):
        yield from _rows(extra, root, f"{path}.<name>", listed)


def render(schema: dict[str, Any] | None = None) -> str:
    """The reference page of ``schema`` (default: the package's)."""
    schema = schema or load_schema()
    lines, listed = [INTRO], {}
    for block, node in schema["properties"].items():
        lines += [f"## `{block}`", "", HEADER, "|---|---|---|---|"]
        for row in _rows(node, schema, block, listed):
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
