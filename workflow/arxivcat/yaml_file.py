"""YAML files read safely: a syntax error or a document that aliases blow up is one line.

The config, the schema and the Snakemake configfiles go through :func:`load_yaml`;
:func:`check_expansion` also guards documents that arrive already loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from arxivcat.errors import ConfigError

#: The most values (mappings, lists and scalars, keys included, aliases expanded) a YAML
#: document may hold: the shipped configuration has about 300.
MAX_VALUES = 100_000


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning a syntax error or an expanding document into a one-line error.

    Raises:
        ConfigError: If the file is not YAML, or its aliases expand it beyond
            :data:`MAX_VALUES` values (or into itself).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    check_expansion(document, str(path))
    return document


def check_expansion(document: Any, where: str) -> None:
    """Refuse a document that YAML aliases make huge or recursive ("billion laughs").

    A loaded document shares the node of an anchor among its aliases, so a few lines can stand
    for billions of values, which every later walk (validation, Snakemake's params) expands.  The
    expanded size is counted once per shared node, in time linear in the document's real size.

    Raises:
        ConfigError: Naming ``where``, if the expansion exceeds :data:`MAX_VALUES` or is
            recursive.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise ConfigError(f"{where}: recursive YAML aliases (a value contains itself)")
        open_nodes.add(id(node))
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        sizes[id(node)] = 1 + sum(size(child) for child in children)
        open_nodes.discard(id(node))
        return sizes[id(node)]

    try:
        total = size(document)
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply") from None
    if total > MAX_VALUES:
        raise ConfigError(
            f"{where}: YAML aliases expand the document to {total:,} values "
            f"(at most {MAX_VALUES:,} allowed)"
        )
