"""Validation of the workflow configuration and resolution of experiments.

The JSON schema ``schema.yaml``, shipped inside this package (``config/schema.yaml`` in a
checkout links to it), is the single source of truth for keys, types and defaults; this module
checks a configuration against it, fills in the defaults, applies the checks
a schema cannot express (fractions summing to one, known split names, arXiv categories), and
merges each experiment's training overrides into the defaults.
"""

from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from arxivcat import layout, taxonomy
from arxivcat.errors import ConfigError
from arxivcat.sweeps import SweepError, expand_grids
from arxivcat.yaml_file import check_expansion, load_yaml

#: The configuration schema (package data): every key, its type, description and default.
SCHEMA_PATH = Path(str(resources.files("arxivcat") / "schema.yaml"))
#: The reference experiments' configuration (package data; config/config.yaml links to it).
CONFIG_PATH = Path(str(resources.files("arxivcat") / "config.yaml"))


@dataclass(frozen=True)
class Experiment:
    """One experiment with every setting resolved.

    Attributes:
        name: The experiment's name, also its results directory.
        labels: Canonical arXiv categories; a paper is positive if any of its categories is here.
            Empty for a multi-head experiment.
        dataset_config: The data's name in the card's model-index.
        split: Name of the split definition the experiment uses.
        split_settings: That split definition.
        weak_negatives: Weak negatives added to training, as a share of the training size.
        label_mode: ``any`` (any listed category makes a positive) or ``primary``.
        sample_pct: Percentage of the training split's papers kept.
        training: The training settings: defaults merged with the experiment's overrides.
        heads: A multi-head experiment's heads (name to canonical categories, in config order),
            or ``every-category``; None for a binary experiment.
        min_head_positives: With ``every-category``, least positive training papers of a head.
        sweep: The sweep the experiment belongs to (its grid's experiment), or None.
        deployment_prevalence: Shares of positives at which the card gives precision and F1.
        calibration: ``none`` or ``temperature`` (fitted on validation with the threshold).
    """

    name: str
    labels: tuple[str, ...]
    dataset_config: str
    split: str
    split_settings: dict[str, Any]
    weak_negatives: float
    training: dict[str, Any]
    label_mode: str
    sample_pct: float
    heads: dict[str, tuple[str, ...]] | str | None = None
    min_head_positives: int = 0
    sweep: str | None = None
    deployment_prevalence: tuple[float, ...] = ()
    calibration: str = "none"

    @property
    def multi_head(self) -> bool:
        """Whether the experiment asks several questions of one model."""
        return self.heads is not None

    def labelling(self) -> dict[str, Any]:
        """What decides the experiment's labels and training rows (the ``label_splits`` params)."""
        heads = self.heads
        return {
            "labels": list(self.labels),
            "weak_negatives": self.weak_negatives,
            "label_mode": self.label_mode,
            "sample_pct": self.sample_pct,
            "heads": {k: list(v) for k, v in heads.items()} if isinstance(heads, dict) else heads,
            "min_head_positives": self.min_head_positives,
        }

    def card_facts(self) -> dict[str, Any]:
        """What the card states about the experiment (the card rule's parameter)."""
        return {
            "name": self.name,
            "dataset_config": self.dataset_config,
            "labels": list(self.labels),
            "split": self.split,
            "split_settings": self.split_settings,
            "weak_negatives": self.weak_negatives,
            "training": self.training,
            "heads": self.labelling()["heads"],
            "label_mode": self.label_mode,
            "deployment_prevalence": list(self.deployment_prevalence),
        }


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**target, **{k: v for k, v in schema.items() if k != "$ref"}}


def _inherits(path: tuple[str, ...]) -> bool:
    """Whether the object at ``path`` inherits absent keys instead of taking schema defaults.

    An experiment's ``training`` block holds overrides only; what it leaves out comes from the
    global ``training`` block, so filling schema defaults there would mask the global values.
    """
    return len(path) == 3 and path[0] == "experiments" and path[2] == "training"


def _fill_defaults(
    instance: dict[str, Any], schema: dict[str, Any], root: dict[str, Any], path: tuple[str, ...]
) -> None:
    """Fill schema defaults into ``instance`` (found at ``path`` in the config) in place."""
    if _inherits(path):
        return
    schema = _resolve(schema, root)
    properties = schema.get("properties", {})
    for key, sub in properties.items():
        if key not in instance and "default" in _resolve(sub, root):
            instance[key] = copy.deepcopy(_resolve(sub, root)["default"])
        if isinstance(instance.get(key), dict):
            _fill_defaults(instance[key], sub, root, (*path, key))
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in instance.items():
            if key not in properties and isinstance(value, dict):
                _fill_defaults(value, extra, root, (*path, key))


@functools.cache
def load_schema() -> dict[str, Any]:
    """Return the schema at :data:`SCHEMA_PATH` (read once per process)."""
    return load_yaml(SCHEMA_PATH)


def schema_node(*path: str) -> dict[str, Any]:
    """The schema of the configuration key at ``path`` (e.g. ``("predict", "batch_size")``)."""
    root = load_schema()
    node: dict[str, Any] = root
    for key in path:
        node = _resolve(node, root)["properties"][key]
    return _resolve(node, root)


def schema_defaults(*path: str) -> dict[str, Any]:
    """Return the defaults the schema gives the configuration block at ``path``.

    For callers outside the workflow (tests, benchmarks, the card CLI) that pass fewer keys than a
    validated configuration has; e.g. ``schema_defaults("training")``.
    """
    defaults: dict[str, Any] = {}
    _fill_defaults(defaults, schema_node(*path), load_schema(), path)
    return defaults


def check_setting(value: Any, *path: str) -> None:
    """Check one setting given outside a config file (a command-line option) as a config's is.

    The schema's node for ``path`` decides (type, bounds, choices), and NaN is refused, as
    :func:`validate_config` does: the same value fails in the config and on the command line.

    Raises:
        ConfigError: With the reason only (e.g. ``-5 is less than the minimum of 1``); the
            caller names where the value came from.
    """
    node = {**schema_node(*path), "definitions": load_schema().get("definitions", {})}
    errors = jsonschema.Draft202012Validator(node).iter_errors(value)
    if (error := jsonschema.exceptions.best_match(errors)) is not None:
        raise ConfigError(error.message)
    if _not_a_number(value) is not None:
        raise ConfigError(f"{value!r} is not a number")


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def canonical(value: Any) -> Any:
    """A fresh copy of ``value`` with the keys of every mapping sorted (lists keep their order).

    Snakemake compares a rule's params by their text, and a mapping's text follows its key order:
    sorted keys make the same settings the same text, however the config file orders them.  The
    copy shares no node, so a YAML alias never makes one block the other's twin.
    """
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def _not_a_number(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first NaN in ``value`` (which every schema bound lets through)."""
    if isinstance(value, float) and math.isnan(value):
        return ".".join(path)
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if (found := _not_a_number(item, (*path, str(key)))) is not None:
                return found
    return None


def _check_schema(config: dict[str, Any], schema: dict[str, Any]) -> None:
    """Raise the first schema violation of ``config`` (and a NaN, which every bound lets by)."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError(f"config: {_path(errors[0])}: {errors[0].message}")
    if (where := _not_a_number(config)) is not None:
        raise ConfigError(f"config: {where}: nan is not a number")


def validate_config(config: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Check ``config`` against ``schema`` and return a copy with every default filled in.

    Every experiment's ``grid`` is expanded into the experiments of its combinations
    (:mod:`arxivcat.sweeps`).  The copy's mappings have their keys sorted (:func:`canonical`):
    experiments, for one, come in name order, which is the order of the summary's rows and the
    joined predictions' columns.

    Raises:
        ConfigError: On the first problem found, naming the offending key.
    """
    if not isinstance(config, dict):
        raise ConfigError("config: expected a mapping at the top level")
    check_expansion(config, "config")
    _check_schema(config, schema)
    training_keys = set(schema["definitions"]["training"]["properties"])
    try:
        experiments = expand_grids(config["experiments"], training_keys)
    except SweepError as error:
        raise ConfigError(str(error)) from None
    if experiments != config["experiments"]:
        # The grids' values, now in the experiments' training blocks, meet the schema there.
        config = {**config, "experiments": experiments}
        _check_schema(config, schema)
    config = canonical(config)
    _fill_defaults(config, schema, schema, ())
    config = canonical(config)
    for name, split in config["splits"].items():
        total = sum(split["fractions"].values())
        if abs(total - 1.0) > 1e-9:
            raise ConfigError(f"config: splits.{name}.fractions: shares sum to {total:g}, not 1")
    for name, experiment in config["experiments"].items():
        if experiment["split"] not in config["splits"]:
            known = ", ".join(sorted(config["splits"]))
            raise ConfigError(
                f"config: experiments.{name}.split: unknown split {experiment['split']!r} "
                f"(defined: {known})"
            )
        _check_labels(name, experiment)
    _check_embedding_names(config)
    return config


def _check_embedding_names(config: dict[str, Any]) -> None:
    """No two models share the name of their embeddings' files (:func:`layout.encoder_key`)."""
    models: dict[str, str] = {}
    for name in config["experiments"]:
        training = get_experiment(config, name).training
        key = layout.encoder_key(training["model"], training["max_length"])
        if models.setdefault(key, training["model"]) != training["model"]:
            raise ConfigError(
                f"config: experiments.{name}.training.model: models {models[key]!r} and "
                f"{training['model']!r} share the embedding name {key!r}; point one of them at "
                "another path"
            )


def _check_labels(name: str, experiment: dict[str, Any]) -> None:
    """Exactly one of ``labels`` and ``heads``; every category named is an arXiv category."""
    if ("labels" in experiment) == ("heads" in experiment):
        raise ConfigError(
            f"config: experiments.{name}: give either labels (one binary question) or heads "
            "(several questions of one model), not both and not neither"
        )
    sets = {"labels": experiment.get("labels", [])}
    if isinstance(experiment.get("heads"), dict):
        sets.update({f"heads.{head}": labels for head, labels in experiment["heads"].items()})
    for key, labels in sets.items():
        unknown = taxonomy.unknown_categories(labels)
        if unknown:
            raise ConfigError(
                f"config: experiments.{name}.{key}: not arXiv categories: {', '.join(unknown)} "
                "(see https://arxiv.org/category_taxonomy)"
            )


def get_experiment(config: dict[str, Any], name: str) -> Experiment:
    """Return the fully resolved experiment ``name`` of a validated ``config``.

    Raises:
        ConfigError: If no experiment has that name; the message lists the known names.
    """
    experiments = config["experiments"]
    if name not in experiments:
        known = ", ".join(experiments)
        raise ConfigError(f"unknown experiment {name!r}; experiments in config: {known}")
    entry = experiments[name]
    heads = entry.get("heads")
    if isinstance(heads, dict):
        heads = {head: tuple(taxonomy.canonical_list(labels)) for head, labels in heads.items()}
    return Experiment(
        name=name,
        labels=tuple(taxonomy.canonical_list(entry.get("labels", []))),
        dataset_config=entry.get("dataset_config", name),
        split=entry["split"],
        split_settings=copy.deepcopy(config["splits"][entry["split"]]),
        weak_negatives=float(entry["weak_negatives"]),
        training={**config["training"], **entry["training"]},
        label_mode=entry["label_mode"],
        sample_pct=float(entry["sample_pct"]),
        heads=heads,
        min_head_positives=int(entry["min_head_positives"]) if heads else 0,
        sweep=entry.get("sweep"),
        deployment_prevalence=tuple(float(p) for p in entry["deployment_prevalence"]),
        calibration=entry["calibration"],
    )
