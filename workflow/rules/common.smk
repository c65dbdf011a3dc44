# Shared set-up: the package on the path, config validation, wildcard constraints and the small
# input/params functions.
import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from snakemake.exceptions import WorkflowError


def package_dir():
    """The folder holding this workflow's own package ``arxivcat``, at this workflow's version.

    From a local path (a checkout, or a module given by path) that is ``workflow/`` itself.  From
    any other source (``github(...)``, ``gitlab(...)``, a URL) the files named
    in ``arxivcat/package_files.txt`` are fetched through Snakemake's source cache
    (``workflow.source_path``, as it fetches rule files and scripts) into a folder of this
    process, removed when it ends.
    """
    here = workflow.current_basedir.get_path_or_uri(secret_free=True)
    if os.path.isdir(here):
        return str(Path(here).parent)
    root = Path(tempfile.mkdtemp(prefix="arxivcat-package-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    listing = Path(workflow.source_path("../arxivcat/package_files.txt"))
    for name in listing.read_text(encoding="utf-8").split():
        target = root / "arxivcat" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(workflow.source_path(f"../arxivcat/{name}"), target)
    return str(root)


# This file imports the package through sys.path, jobs through PYTHONPATH, ahead of any installed
# copy.  Conda and container jobs (whose envs hold the dependencies only) lose PYTHONPATH, which
# Snakemake removes there; its script preamble appends this process's sys.path instead (mounted
# into containers).  Every Snakemake process, local or on a cluster node, parses this file.
PACKAGE_DIR = package_dir()
sys.path.insert(0, PACKAGE_DIR)
_INHERITED = os.environ.get("PYTHONPATH", "").split(os.pathsep)
os.environ.update(
    PYTHONPATH=os.pathsep.join([PACKAGE_DIR, *(p for p in _INHERITED if p and p != PACKAGE_DIR)])
)

from arxivcat import layout
from arxivcat.config import ConfigError, get_experiment, load_schema, validate_config
from arxivcat.provenance import code_digest

SCHEMA = load_schema()
try:
    config = validate_config(config, SCHEMA)
except ConfigError as error:
    raise WorkflowError(str(error)) from None

EXPERIMENTS = list(config["experiments"])
# The experiments of a sweep (a grid's expansion), by name: the summary compares them.
SWEEPS = {
    name: experiment["sweep"]
    for name, experiment in config["experiments"].items()
    if "sweep" in experiment
}


wildcard_constraints:
    experiment=r"[^/]+",
    split=r"[^/]+",
    head=r"[^/]+",


def experiment_of(wildcards):
    """The resolved experiment named by the wildcard (fails listing known names otherwise)."""
    try:
        return get_experiment(config, wildcards.experiment)
    except ConfigError as error:
        raise WorkflowError(str(error)) from None


def split_of(wildcards):
    """The split definition named by the wildcard."""
    if wildcards.split not in config["splits"]:
        raise WorkflowError(
            f"unknown split {wildcards.split!r}; splits in config: {', '.join(config['splits'])}"
        )
    return config["splits"][wildcards.split]


def assignment_of(wildcards):
    """The split assignment an experiment uses."""
    return rules.assign_splits.output.assignment.format(split=experiment_of(wildcards).split)


def weak_negatives_of(wildcards):
    """The weak-negative table (`ancient`: its digest decides), for experiments that add them."""
    if experiment_of(wildcards).weak_negatives > 0:
        return ancient(rules.prepare_weak_negatives.output.table)
    return []


def weak_negatives_digest_of(wildcards):
    """The weak-negative table's digest, for experiments that add weak negatives."""
    if experiment_of(wildcards).weak_negatives > 0:
        return rules.prepare_weak_negatives.output.digest
    return []


def labelling_of(wildcards):
    """What decides an experiment's labels and training rows."""
    return experiment_of(wildcards).labelling()


def tokenizer_of(wildcards):
    """The settings that decide an experiment's tokens."""
    training = experiment_of(wildcards).training
    return {"model": training["model"], "max_length": training["max_length"]}


def training_of(wildcards):
    """The experiment's training settings."""
    return experiment_of(wildcards).training


def baseline_seed_of(wildcards):
    """The TF-IDF baseline's seed: the experiment's training seed, and nothing else of training."""
    return int(experiment_of(wildcards).training["seed"])


def heads_of(name):
    """The heads of experiment ``name`` (none for a binary one).

    As configured, or for ``every-category`` as the split report of its label_splits checkpoint
    names them.
    """
    experiment = get_experiment(config, name)
    if isinstance(experiment.heads, dict):
        return list(experiment.heads)
    if experiment.heads is None:
        return []
    split_report = checkpoints.label_splits.get(experiment=name).output.report
    with open(split_report, encoding="utf-8") as handle:
        return [head["name"] for head in json.load(handle)["heads"]]


def head_cards(wildcards):
    """Every head's card of every multi-head experiment."""
    return [
        rules.write_head_card.output.card.format(experiment=name, head=head)
        for name in EXPERIMENTS
        for head in heads_of(name)
    ]


def card_inputs(wildcards):
    """What a card reads: the model's records, its evaluation, threshold and baselines, the data."""
    return {
        "model": rules.train.output.model,
        "metrics": rules.evaluate.output.metrics,
        "predictions": rules.evaluate.output.predictions,
        "split_report": rules.label_splits.output.report,
        "manifest": rules.download_snapshot.output.manifest,
        "baseline": rules.train_baseline.output.metrics,
        "baseline_predictions": rules.train_baseline.output.predictions,
        "probe": rules.train_probe.output.metrics,
        "probe_predictions": rules.train_probe.output.predictions,
        "threshold": rules.choose_threshold.output.threshold,
        "test": rules.label_splits.output.test,
        "heldout": rules.label_splits.output.heldout,
    }


def calibration_of(wildcards):
    """How an experiment's probabilities are calibrated before its thresholds are chosen."""
    return experiment_of(wildcards).calibration


def card_facts_of(wildcards):
    """Everything about an experiment that the card states."""
    return experiment_of(wildcards).card_facts()


def package_facts_of(wildcards):
    """What the model folder records of its experiment."""
    experiment = experiment_of(wildcards)
    return {
        "name": experiment.name,
        "labels": list(experiment.labels),
        "dataset_config": experiment.dataset_config,
        "max_length": experiment.training["max_length"],
        "heads": experiment.labelling()["heads"],
    }


def oai_harvest_of(wildcards):
    """The OAI-PMH harvest table, when one is merged into (or is) the corpus."""
    if config["oai"]["enabled"] or config["snapshot"]["source"] == "oai":
        return rules.harvest_oai.output.table
    return []


def train_gpus_of(wildcards):
    """GPUs a training job takes (the `gpu` resource that profiles and SLURM see)."""
    training = experiment_of(wildcards).training
    return 0 if training["device"] in ("cpu", "tpu") else training["gpus"]


def evaluate_gpus_of(wildcards):
    """GPUs an evaluation job takes: one, unless the experiment runs on CPU or TPU."""
    return min(train_gpus_of(wildcards), 1)


def resources_of(rule, wildcards):
    """A GPU stage's scheduler requests for one experiment: schema defaults < global < experiment."""
    defaults = SCHEMA["properties"]["resources"]["properties"][rule]["default"]
    experiment = config["experiments"][experiment_of(wildcards).name]
    return {
        **defaults,
        **config["resources"].get(rule, {}),
        **experiment.get("resources", {}).get(rule, {}),
    }


def resource_of(rule, key):
    """A resource function for ``rule``'s ``key`` (a scheduler request, overridable per experiment)."""

    def resource(wildcards):
        return resources_of(rule, wildcards)[key]

    resource.__name__ = f"{rule}_{key}"
    return resource
