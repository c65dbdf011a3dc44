"""Configuration: schema validation, defaults, experiment resolution and one-line errors."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from arxivcat.config import (
    CONFIG_PATH,
    SCHEMA_PATH,
    ConfigError,
    get_experiment,
    load_schema,
    load_yaml,
    schema_defaults,
    validate_config,
)

REFERENCE_EXPERIMENTS = {
    "ai-32",
    "ai-full-weak-negs",
    "cv-32",
    "nlp-32",
    "ro-32",
    "cyber-32",
    "cyber-full-weak-negs",
}
AI_LABELS = ("cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO", "stat.ML")


@pytest.fixture()
def raw(repo) -> dict:
    """The shipped config as written, before validation."""
    return load_yaml(repo / "config" / "config.yaml")


def test_default_config_ships_the_seven_reference_experiments_and_their_fields_as_one(
    default_config,
):
    assert set(default_config["experiments"]) == REFERENCE_EXPERIMENTS | {"fields-weak-negs"}
    fields = get_experiment(default_config, "fields-weak-negs")
    assert fields.heads == {
        "AI": AI_LABELS, "CV": ("cs.CV",), "Cyber": ("cs.CR",), "NLP": ("cs.CL",),
        "RO": ("cs.RO",),
    }  # fmt: skip
    assert fields.weak_negatives == pytest.approx(0.10) and fields.split == "reference"
    assert fields.training["pos_weight"] == "auto" and fields.training["refit_heads"] is True
    assert fields.training["head_init"] == "logistic"


@pytest.mark.parametrize("name", sorted(REFERENCE_EXPERIMENTS))
def test_reference_hyperparameters_are_the_defaults(default_config, name):
    training = get_experiment(default_config, name).training
    assert training["model"] == "sentence-transformers/allenai-specter"
    assert training["learning_rate"] == 7.5e-6
    assert training["train_batch_size"] == training["eval_batch_size"] == 32
    assert training["seed"] == 20230227
    assert training["lr_scheduler_type"] == "linear"
    assert training["num_epochs"] == 3
    assert training["max_length"] == 512


def test_reference_label_sets_and_weak_negative_shares(default_config):
    ai = get_experiment(default_config, "ai-full-weak-negs")
    assert ai.labels == AI_LABELS
    assert ai.weak_negatives == pytest.approx(0.10)
    assert ai.dataset_config == "AI with 10-pct Weak Negatives"
    assert get_experiment(default_config, "cv-32").labels == ("cs.CV",)
    assert get_experiment(default_config, "cv-32").weak_negatives == 0.0
    assert get_experiment(default_config, "cyber-full-weak-negs").labels == ("cs.CR",)
    split = get_experiment(default_config, "cv-32").split_settings
    assert split["min_year"] == 2010
    assert split["fractions"] == {"train": 0.7, "validation": 0.15, "test": 0.15}


def test_experiment_overrides_merge_into_global_training(schema, raw):
    raw["training"] = {"num_epochs": 1}
    raw["experiments"]["cv-32"]["training"] = {"learning_rate": 1e-5}
    config = validate_config(raw, schema)
    cv = get_experiment(config, "cv-32").training
    nlp = get_experiment(config, "nlp-32").training
    assert cv["learning_rate"] == 1e-5 and cv["num_epochs"] == 1
    assert nlp["learning_rate"] == 7.5e-6 and nlp["num_epochs"] == 1
    # Overrides stay overrides: no schema default masks the global value.
    assert config["experiments"]["cv-32"]["training"] == {"learning_rate": 1e-5}


def test_aliases_in_labels_resolve_to_canonical_names(schema, raw):
    raw["experiments"]["sys"] = {"labels": ["cs.SY", "eess.SY", "math.MP"]}
    experiment = get_experiment(validate_config(raw, schema), "sys")
    assert experiment.labels == ("eess.SY", "math-ph")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["training"].update(learning_rate="fast"),
            "config: training.learning_rate: 'fast' is not of type 'number'",
        ),
        (
            lambda c: c["experiments"]["cv-32"].update(labels=["cs.CV", "cs.VISION"]),
            "config: experiments.cv-32.labels: not arXiv categories: cs.VISION",
        ),
        (
            lambda c: c["experiments"]["cv-32"].update(split="nope"),
            "config: experiments.cv-32.split: unknown split 'nope' (defined: reference)",
        ),
        (
            lambda c: c["splits"]["reference"].update(
                fractions={"train": 0.8, "validation": 0.15, "test": 0.15}
            ),
            "config: splits.reference.fractions: shares sum to 1.1, not 1",
        ),
        (
            lambda c: c["experiments"]["cv-32"].update(lables=["cs.CV"]),
            "config: experiments.cv-32: Additional properties are not allowed ('lables' was "
            "unexpected)",
        ),
        (
            lambda c: [
                c["experiments"]["cv-32"].update(training={"model": "org/model"}),
                c["experiments"]["ro-32"].update(training={"model": "org--model"}),
            ],
            "config: experiments.ro-32.training.model: models 'org/model' and 'org--model' "
            "share the embedding name 'org--model_512'",
        ),
    ],
)
def test_bad_config_gives_a_one_line_error(schema, raw, mutate, message):
    mutate(raw)
    with pytest.raises(ConfigError) as caught:
        validate_config(raw, schema)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_unknown_experiment_lists_the_known_names(default_config):
    with pytest.raises(ConfigError, match=r"unknown experiment 'cv-64'.*cv-32.*nlp-32"):
        get_experiment(default_config, "cv-64")


def test_schema_describes_and_defaults_every_key(schema):
    """Every leaf key of the schema has a description, and every optional key a default."""

    def walk(node: dict, path: str) -> list[str]:
        problems = []
        node = {**schema["definitions"]["training"], **node} if "$ref" in node else node
        for key, sub in node.get("properties", {}).items():
            where = f"{path}.{key}"
            if "description" not in sub and "$ref" not in sub and path != ".splits.*.fractions":
                problems.append(f"{where}: no description")
            optional = key not in node.get("required", [])
            inherited = path.startswith(".experiments") or path.endswith(".fractions")
            if "default" not in sub and optional and not inherited:
                problems.append(f"{where}: no default")
            problems += walk(sub, where)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            problems += walk(extra, f"{path}.*")
        return problems

    assert walk(schema, "") == []


def test_default_config_keys_all_exist_in_schema(schema, raw):
    """The shipped config and the schema must not drift apart (additionalProperties: false)."""
    validate_config(copy.deepcopy(raw), schema)
    assert set(raw) <= set(schema["properties"])


def test_schema_ships_in_the_package_and_config_schema_links_to_it(repo, schema):
    package_copy = resources.files("arxivcat") / "schema.yaml"
    assert package_copy.is_file()
    assert Path(str(package_copy)) == SCHEMA_PATH
    # One file: config/schema.yaml, where users look for it, is a link to the package's copy.
    assert (repo / "config" / "schema.yaml").is_symlink()
    assert (repo / "config" / "schema.yaml").resolve() == SCHEMA_PATH.resolve()
    assert load_schema() == schema


def test_reference_config_ships_in_the_package_and_config_config_links_to_it(repo):
    assert Path(str(resources.files("arxivcat") / "config.yaml")) == CONFIG_PATH
    # One file: config/config.yaml, which Snakemake and users read, is a link to the package's.
    assert (repo / "config" / "config.yaml").is_symlink()
    assert (repo / "config" / "config.yaml").resolve() == CONFIG_PATH.resolve()


def _schema_node(schema: dict, node: dict, key: str) -> dict | None:
    """The schema of ``key`` inside the object described by ``node`` (None if it has none)."""
    if "$ref" in node:
        node = {**schema["definitions"][node["$ref"].rsplit("/", 1)[1]], **node}
    for option in node.get("oneOf", [node]):
        if key in option.get("properties", {}):
            return option["properties"][key]
        extra = option.get("additionalProperties")
        if isinstance(extra, dict):
            return extra
    return None


@pytest.mark.parametrize("name", ["config.yaml", "demo.yaml"])
def test_every_key_of_the_shipped_configs_is_in_the_schema(repo, schema, name):
    def walk(value: object, node: dict, where: str) -> list[str]:
        if not isinstance(value, dict):
            return []
        missing = []
        for key, sub in value.items():
            sub_node = _schema_node(schema, node, key)
            if sub_node is None:
                missing.append(f"{where}.{key}")
            else:
                missing += walk(sub, sub_node, f"{where}.{key}")
        return missing

    shipped = load_yaml(repo / "config" / name)
    assert walk(shipped, schema, "") == []


def test_every_schema_default_is_valid_for_its_key(schema):
    def defaults(node: dict, where: str) -> list[tuple[str, dict, object]]:
        if "$ref" in node:
            node = {**schema["definitions"][node["$ref"].rsplit("/", 1)[1]], **node}
        found = [(where, node, node["default"])] if "default" in node else []
        for key, sub in node.get("properties", {}).items():
            found += defaults(sub, f"{where}.{key}")
        if isinstance(node.get("additionalProperties"), dict):
            found += defaults(node["additionalProperties"], f"{where}.*")
        return found

    found = defaults(schema, "")
    assert len(found) > 40
    for where, node, default in found:
        standalone = {**node, "definitions": schema["definitions"]}
        errors = list(jsonschema.Draft202012Validator(standalone).iter_errors(default))
        assert errors == [], f"{where}: default {default!r}: {errors[0].message}"


def test_schema_defaults_alone_make_a_valid_config(schema):
    config = {**schema_defaults(), "experiments": {"x": {"labels": ["cs.CV"]}}}
    assert validate_config(config, schema) == validate_config(
        {"experiments": {"x": {"labels": ["cs.CV"]}}}, schema
    )


def billion_laughs(levels: int = 9) -> str:
    """A YAML document whose aliases expand ``oai.sets`` to 9**levels strings."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    lines += ["experiments: {cv-32: {labels: [cs.CV]}}", f"oai: {{sets: *l{levels - 1}}}"]
    return "\n".join(lines) + "\n"


def test_a_config_that_expands_through_aliases_is_refused_quickly(tmp_path, repo):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    env = {**os.environ, "PYTHONPATH": str(repo / "workflow")}
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "arxivcat", "summary", "--config", str(bomb)],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail("the command was still validating the expanded config after 60 s")
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"arxivcat summary: error: {bomb}: ") and "aliases" in line


def test_an_expanding_or_recursive_mapping_is_refused_by_validation_too(schema):
    """Snakemake loads the config file itself and hands validate_config the mapping."""
    documents = [yaml.safe_load(billion_laughs()), yaml.safe_load("experiments: &a {x: *a}")]

    def too_slow(*_: object) -> None:
        raise TimeoutError("still validating after 30 s")

    signal.signal(signal.SIGALRM, too_slow)
    for document in documents:
        signal.alarm(30)  # the unchanged code validated for ever
        try:
            with pytest.raises(ConfigError, match=r"^config: .*aliases") as caught:
                validate_config(document, schema)
        finally:
            signal.alarm(0)
        assert "\n" not in str(caught.value)


def test_a_few_honest_aliases_are_fine(schema):
    text = (
        "training: &shared {num_epochs: 1}\n"
        "experiments:\n  a: {labels: [cs.CV], training: *shared}\n"
        "  b: {labels: [cs.AI], training: *shared}\n"
    )
    config = validate_config(yaml.safe_load(text), schema)
    assert config["experiments"]["b"]["training"] == {"num_epochs": 1}


@pytest.mark.parametrize("block", ["experiments", "splits", "corpora"])
@pytest.mark.parametrize("name", ["a/b", "with space", ".hidden", "tab\tname", "", "-x", "é"])
def test_names_that_break_paths_or_wildcards_are_refused(schema, block, name):
    config = {"experiments": {"x": {"labels": ["cs.CV"]}}}
    if block == "experiments":
        config["experiments"] = {name: {"labels": ["cs.CV"]}}
    elif block == "splits":
        config["splits"] = {name: {}}
        config["experiments"]["x"]["split"] = name
    else:
        config["predict"] = {"corpora": {name: "papers.jsonl"}}
    with pytest.raises(ConfigError, match=r"does not match") as caught:
        validate_config(config, schema)
    assert "\n" not in str(caught.value)


def test_nan_is_refused_wherever_a_number_goes(schema):
    for block, key in (("predict", "threshold"), ("training", "learning_rate")):
        config = {"experiments": {"x": {"labels": ["cs.CV"]}}, block: {key: float("nan")}}
        with pytest.raises(ConfigError, match=rf"^config: {block}\.{key}: nan is not a number"):
            validate_config(config, schema)


def reordered(value: object) -> object:
    """``value`` with the keys of every mapping in reverse order (lists unchanged)."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


def test_validated_config_does_not_depend_on_key_order(schema, raw):
    """Snakemake compares params by their repr: the same meaning must give the same text."""
    first = validate_config(copy.deepcopy(raw), schema)
    second = validate_config(reordered(raw), schema)
    assert repr(first) == repr(second)
    assert list(first["experiments"]) == sorted(first["experiments"])
    for name in first["experiments"]:
        assert repr(get_experiment(first, name)) == repr(get_experiment(second, name))


@pytest.mark.parametrize("value", ["AI\n---\nlicense: other", "tab\there", ""])
def test_a_dataset_config_is_one_line_of_text(schema, value):
    config = {"experiments": {"x": {"labels": ["cs.CV"], "dataset_config": value}}}
    with pytest.raises(
        ConfigError, match=r"^config: experiments\.x\.dataset_config: .* does not match"
    ):
        validate_config(config, schema)


def test_a_grid_expands_into_an_experiment_per_combination(schema):
    config = {
        "experiments": {
            "lr": {
                "labels": ["cs.CV"],
                "training": {"max_length": 64, "learning_rate": 1.0},
                "grid": {"learning_rate": [2.0e-5, 5.0e-5], "pos_weight": [None, "auto"]},
            },
            "cv": {"labels": ["cs.CV"]},
        }
    }
    validated = validate_config(config, schema)
    names = [name for name in validated["experiments"] if name.startswith("lr.")]
    assert names == [
        "lr.learning_rate-2e-05.pos_weight-auto",
        "lr.learning_rate-2e-05.pos_weight-none",
        "lr.learning_rate-5e-05.pos_weight-auto",
        "lr.learning_rate-5e-05.pos_weight-none",
    ]
    assert "lr" not in validated["experiments"]
    member = get_experiment(validated, "lr.learning_rate-5e-05.pos_weight-auto")
    assert member.sweep == "lr" and get_experiment(validated, "cv").sweep is None
    assert member.training["learning_rate"] == 5.0e-5 and member.training["pos_weight"] == "auto"
    assert member.training["max_length"] == 64  # the experiment's own settings stay
    assert validate_config(validated, schema) == validated  # validating again changes nothing


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"learnin_rate": [1e-5]}, r"experiments\.lr\.grid\.learnin_rate: not a training key"),
        ({"learning_rate": [-1]}, r"lr\.learning_rate--1\.training\.learning_rate: -1 is less"),
        ({"learning_rate": []}, r"experiments\.lr\.grid\.learning_rate: \[\] should be non-empty"),
        ({"seed": [1, 1]}, r"two experiments are named 'lr\.seed-1'"),
    ],
)
def test_a_bad_grid_fails_naming_it(schema, grid, message):
    config = {"experiments": {"lr": {"labels": ["cs.CV"], "grid": grid}}}
    with pytest.raises(ConfigError, match=message):
        validate_config(config, schema)
