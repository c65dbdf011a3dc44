"""What reruns when: Snakemake's own dry-run plan after one completed tiny run.

One real run (two experiments on two split definitions, the real arXiv records in ../shared, a
2-layer BERT for one epoch) is built once per test session and copied, with its mtimes and
Snakemake metadata, into a scratch directory per test: each test edits its own copy of the config
or of the package code and asks Snakemake (``--dry-run``, ``--list-changes``) what it would redo.
The promises are documented in docs/outputs.md ("What reruns when").
"""

from __future__ import annotations

import ast
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from workflow_runner import dry_run_jobs, write_real_snapshot

from arxivcat import layout

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
TREE = ("Snakefile", "workflow", "config", "envs")
# Experiments of the tiny run: cv-32 uses the "reference" split definition, ai-32 "other".  Each
# is the other's witness: a change meant for one must leave the other's jobs alone.
EXPERIMENTS = ("cv-32", "ai-32")
# Jobs that read every experiment's results (the summary table and the default target, the
# top-level Snakefile's `default`).  They follow any experiment's change; what the promises
# constrain is every other job.
AGGREGATES = {"default", "summarize"}
# The embedding each split definition's experiments share (rule embed), by its job's wildcards.
EMBEDDING = "split={split}, encoder=" + layout.encoder_key("builtin:tiny-bert", 32)
DATA_RULES = {"download_snapshot", "prepare_weak_negatives", "assign_splits"}


def tiny_config(snapshot: Path) -> dict:
    """The run's whole configuration (it replaces config/config.yaml in the copied tree)."""
    return {
        "snapshot": {"source": str(snapshot)},
        "splits": {
            # The only non-CS records are from 2007: keep them.
            "reference": {"min_year": 2007},
            "other": {"min_year": 2007, "seed": 7},
        },
        "training": {
            "model": "builtin:tiny-bert",
            "max_length": 32,
            "num_epochs": 1,
            "learning_rate": 1e-3,
            "train_batch_size": 64,
            "eval_batch_size": 128,
            "device": "cpu",
        },
        "experiments": {
            "cv-32": {"labels": ["cs.CV"]},
            "ai-32": {"labels": ["cs.AI", "cs.LG"], "split": "other"},
        },
    }


def run(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``workdir`` (a copy of the workflow) with its own copy of the package."""
    command = [
        "timeout", "-k", "10", "1800", sys.executable, "-m", "snakemake",
        "--snakefile", str(workdir / "Snakefile"), "--directory", str(workdir),
        "--workflow-profile", "none", "--cores", "2", *args,
    ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(workdir / "workflow"),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {args} failed ({result.returncode}):\n{result.stderr[-6000:]}"
        )
    return result


def planned(workdir: Path, *args: str) -> set[tuple[str, str]]:
    """The jobs a dry run of the default target would execute, as (rule, wildcards) pairs."""
    result = run(workdir, "--dry-run", *args)
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return set()
    jobs = dry_run_jobs(text)
    assert jobs, f"no jobs parsed from the dry run:\n{text[-3000:]}"
    return jobs


def per_experiment(jobs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The jobs of single experiments, as (rule, experiment) pairs."""
    return {
        (rule, wildcards.removeprefix("experiment="))
        for rule, wildcards in jobs
        if wildcards.startswith("experiment=")
    }


def other_jobs(jobs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Jobs that are not per experiment and not aggregates (download, split assignment)."""
    return {
        (rule, wildcards)
        for rule, wildcards in jobs
        if not wildcards.startswith("experiment=") and rule not in AGGREGATES
    }


def edit_config(workdir: Path, change: Callable[[dict], object]) -> None:
    """Apply ``change`` to the copy's config/config.yaml."""
    path = workdir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


def edit_module(workdir: Path, module: str) -> None:
    """Append a statement to a module of the copy's package (a real code change of its stage)."""
    path = workdir / "workflow" / "arxivcat" / f"{module}.py"
    assert path.is_file(), f"no module {module}.py in the workflow package"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\nEDITED_BY_TEST_RERUN = True\n")


@pytest.fixture(scope="session")
def completed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A finished tiny run and its full first plan; built once even under pytest-xdist."""
    shared = REPO.parent / "shared"
    if not (shared / "data" / "arxiv").is_dir():
        pytest.skip(f"{shared} is absent: the real arXiv records live there")
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this session
    root = base / "rerun-completed"
    with open(base / "rerun-completed.lock", "a+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            shutil.rmtree(root, ignore_errors=True)
            workdir = root / "workdir"
            workdir.mkdir(parents=True)
            for name in TREE:
                copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
                copy(REPO / name, workdir / name)
            # The snapshot lives outside the copied tree: its absolute path is a parameter.
            snapshot = write_real_snapshot(shared, root / "arxiv.jsonl")
            config = tiny_config(snapshot)
            (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
            first_plan = planned(workdir)
            (root / "first-plan.yaml").write_text(yaml.safe_dump(sorted(map(list, first_plan))))
            run(workdir)
            (root / "done").touch()
    first_plan = {tuple(job) for job in yaml.safe_load((root / "first-plan.yaml").read_text())}
    return root / "workdir", first_plan


@pytest.fixture()
def rerun_dir(completed_run, tmp_path: Path) -> Path:
    """A private copy of the completed run (tree, results, .snakemake metadata, mtimes)."""
    source, _ = completed_run
    target = tmp_path / "workdir"
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture()
def pipeline(completed_run) -> dict[str, set[str]]:
    """Every per-experiment rule of the first run, by experiment."""
    _, first_plan = completed_run
    rules: dict[str, set[str]] = {name: set() for name in EXPERIMENTS}
    for rule, experiment in per_experiment(first_plan):
        rules[experiment].add(rule)
    return rules


def test_first_run_planned_every_stage(pipeline, completed_run):
    _, first_plan = completed_run
    for experiment in EXPERIMENTS:
        assert {"label_splits", "tokenize", "train", "evaluate", "write_card"} <= pipeline[
            experiment
        ]
    assert ("download_snapshot", "") in first_plan
    assert {("assign_splits", "split=reference"), ("assign_splits", "split=other")} <= first_plan
    # One embedding per split definition, a probe per experiment.
    assert {job for job in first_plan if job[0] == "embed"} == {
        ("embed", EMBEDDING.format(split=split)) for split in ("reference", "other")
    }
    assert all("train_probe" in pipeline[experiment] for experiment in EXPERIMENTS)


def test_complete_run_has_nothing_to_do_and_no_changes(rerun_dir):
    assert planned(rerun_dir) == set()
    # Each rerun trigger on its own finds nothing stale.
    for trigger in ("mtime", "params", "input", "software-env", "code"):
        assert planned(rerun_dir, "--rerun-triggers", trigger) == set(), trigger
    # Snakemake 9.27's --list-changes params prints the last output of every job whether or not
    # its params changed (ParamsChange iterates its files even when empty), so only code and
    # input are read from --list-changes; the params trigger above is the same comparison.
    for kind in ("code", "input"):
        result = run(rerun_dir, "--list-changes", kind)
        listed = [line for line in result.stdout.splitlines() if line.strip()]
        assert listed == [], f"--list-changes {kind}: {listed}"


def test_training_hyperparameter_reruns_only_that_experiments_train_evaluate_card(rerun_dir):
    change = {"learning_rate": 5e-4}
    edit_config(rerun_dir, lambda c: c["experiments"]["cv-32"].update(training=change))
    jobs = planned(rerun_dir)
    assert per_experiment(jobs) == {
        ("train", "cv-32"),
        ("evaluate", "cv-32"),
        ("choose_threshold", "cv-32"),
        ("write_card", "cv-32"),
    }
    assert other_jobs(jobs) == set()  # the split's embedding (and the probe) stay


def test_split_parameter_reruns_that_split_and_its_experiments_not_download(rerun_dir, pipeline):
    edit_config(rerun_dir, lambda c: c["splits"]["reference"].update(min_year=2008))
    jobs = planned(rerun_dir)
    assert per_experiment(jobs) == {(rule, "cv-32") for rule in pipeline["cv-32"]}
    # The split's embedding is redone; the other split's is not.
    assert other_jobs(jobs) == {
        ("assign_splits", "split=reference"),
        ("embed", EMBEDDING.format(split="reference")),
    }


def reversed_keys(value: object) -> object:
    """``value`` with the keys of every mapping in reverse order (lists keep theirs)."""
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


def test_reordered_and_reformatted_config_reruns_nothing_but_a_changed_value_does(rerun_dir):
    path = rerun_dir / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    # The same settings: every mapping's keys (experiments and splits too) in reverse order, in
    # YAML's flow style, with a comment and numbers spelled otherwise (1e-3 for 0.001).
    text = yaml.safe_dump(reversed_keys(config), sort_keys=False, default_flow_style=True)
    assert "0.001" in text
    path.write_text("# Reordered.\n" + text.replace("0.001", "1.0e-3"), encoding="utf-8")
    assert planned(rerun_dir) == set()
    # A value changed in that file still reruns what depends on it, and only that.
    edit_config(rerun_dir, lambda c: c["splits"]["other"].update(seed=8))
    jobs = planned(rerun_dir)
    assert other_jobs(jobs) == {
        ("assign_splits", "split=other"),
        ("embed", EMBEDDING.format(split="other")),
    }
    assert {name for _, name in per_experiment(jobs)} == {"ai-32"}


def reword_docstrings(text: str) -> str:
    """Insert a word at the start of every docstring (module, class, function) of ``text``."""
    starts = []
    for node in ast.walk(ast.parse(text)):
        documented = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        if isinstance(node, documented) and ast.get_docstring(node, clean=False) is not None:
            starts.append((node.body[0].lineno, node.body[0].col_offset))
    lines = text.splitlines(keepends=True)
    for lineno, column in sorted(starts, reverse=True):
        line = lines[lineno - 1]
        quote = column + len(line[column:]) - len(line[column:].lstrip("rRuU"))
        quote += 3 if line[quote : quote + 3] in ('"""', "'''") else 1
        lines[lineno - 1] = f"{line[:quote]}Reworded. {line[quote:]}"
    return "".join(lines)


def test_comments_and_docstrings_in_every_module_rerun_nothing(rerun_dir):
    modules = sorted((rerun_dir / "workflow" / "arxivcat").rglob("*.py"))
    assert len(modules) > 30
    for path in modules:
        text = reword_docstrings(path.read_text(encoding="utf-8"))
        path.write_text(f"# A comment line.\n{text}\n# Another, at the end.\n", encoding="utf-8")
    assert "Reworded. " in (modules[0].read_text(encoding="utf-8"))
    assert planned(rerun_dir) == set()


def test_card_code_edit_reruns_only_the_cards(rerun_dir):
    edit_module(rerun_dir, "report/card_sections")
    jobs = planned(rerun_dir)
    assert per_experiment(jobs) == {("write_card", name) for name in EXPERIMENTS}
    assert other_jobs(jobs) == set()


def test_probe_code_edit_reruns_the_probes_and_cards_not_the_embeddings(rerun_dir):
    edit_module(rerun_dir, "probe/train_probe")
    jobs = planned(rerun_dir)
    rules = ("train_probe", "write_card")
    assert per_experiment(jobs) == {(rule, name) for name in EXPERIMENTS for rule in rules}
    assert other_jobs(jobs) == set()


def test_training_code_edit_reruns_training_and_after_not_download_or_splits(rerun_dir):
    edit_module(rerun_dir, "model/train")
    jobs = planned(rerun_dir)
    rules = ("train", "evaluate", "choose_threshold", "write_card")
    assert per_experiment(jobs) == {(rule, name) for name in EXPERIMENTS for rule in rules}
    assert {rule for rule, _ in jobs} == {*rules, *AGGREGATES}


def test_new_experiment_runs_only_its_own_jobs(rerun_dir, pipeline):
    edit_config(rerun_dir, lambda c: c["experiments"].update({"ro-32": {"labels": ["cs.RO"]}}))
    jobs = planned(rerun_dir)
    # Its jobs are those of an experiment on the shared split, with download and splits reused.
    assert per_experiment(jobs) == {(rule, "ro-32") for rule in pipeline["cv-32"]}
    assert other_jobs(jobs) == set()


def test_byte_identical_redownload_retrains_nothing(rerun_dir):
    corpus = rerun_dir / layout.CORPUS
    before = corpus.stat().st_mtime_ns
    run(rerun_dir, "--forcerun", "download_snapshot", "--", layout.CORPUS)
    assert corpus.stat().st_mtime_ns > before, "the snapshot was not downloaded again"
    # Only the cards are rewritten: they state the snapshot's retrieval time, which did change.
    jobs = planned(rerun_dir)
    assert per_experiment(jobs) <= {("write_card", name) for name in EXPERIMENTS}
    assert other_jobs(jobs) == set()
