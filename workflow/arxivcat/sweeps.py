"""Sweeps: an experiment's ``grid`` of training values, one experiment per combination.

An experiment with a ``grid`` (training key -> list of values) stands for the experiments of every
combination of those values, as Snakemake's ``Paramspace`` stands for the rows of a table: each is
the experiment with the combination laid over its ``training`` block, named
``<experiment>.<key>-<value>...`` (keys in the grid's order) and marked ``sweep: <experiment>``.
:func:`arxivcat.config.validate_config` expands every grid before anything else reads the
experiments, so rules, cards and the summary see plain experiments; the summary compares the
experiments of one sweep.
"""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

from arxivcat.errors import ArxivcatError


class SweepError(ArxivcatError, ValueError):
    """A grid that cannot be expanded, described in one line."""


def value_name(value: Any) -> str:
    """A grid value as a part of an experiment (folder) name: ``2e-05``, ``auto``, ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(value))


def expand_grids(experiments: dict[str, Any], training_keys: set[str]) -> dict[str, Any]:
    """Replace each experiment that has a ``grid`` by the experiments of its combinations.

    Args:
        experiments: The config's ``experiments`` block (checked against the schema).
        training_keys: The keys a ``training`` block may hold.

    Returns:
        A new ``experiments`` block without grids.

    Raises:
        SweepError: For a grid key that is not a training key, or an expanded name that is taken.
    """
    expanded: dict[str, Any] = {}

    def add(member: str, member_entry: dict[str, Any]) -> None:
        if member in expanded:
            raise SweepError(f"config: experiments: two experiments are named {member!r}")
        expanded[member] = member_entry

    for name, entry in experiments.items():
        if "grid" not in entry:
            add(name, entry)
            continue
        grid = entry["grid"]
        unknown = [key for key in grid if key not in training_keys]
        if unknown:
            raise SweepError(
                f"config: experiments.{name}.grid.{unknown[0]}: not a training key "
                f"(one of {', '.join(sorted(training_keys))})"
            )
        base = {key: value for key, value in entry.items() if key != "grid"}
        for values in itertools.product(*grid.values()):
            combination = dict(zip(grid, values, strict=True))
            label = ".".join(f"{key}-{value_name(value)}" for key, value in combination.items())
            member = copy.deepcopy(base)
            member["training"] = {**member.get("training", {}), **copy.deepcopy(combination)}
            member["sweep"] = name
            add(f"{name}.{label}", member)
    return expanded
