"""End to end: the real workflow on the 3,200 real arXiv records in ../shared, tiny model.

One completed run (cv-32 and ai-full-weak-negs as configured in config/config.yaml, with a 2-layer
BERT trained for one epoch, their summary, and their predictions on the downloaded corpus and on a
generated one) is shared by the tests of this module: the cards' contents, the summary, the
predictions, the no-op rerun, and what a changed learning rate reruns.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from huggingface_hub import ModelCard
from workflow_runner import (
    default_config,
    dry_run_jobs,
    planned_jobs,
    snakemake,
    write_real_snapshot,
)

from arxivcat.synthetic.generate import write_snapshot

pytestmark = pytest.mark.e2e

TARGETS = ("results/cv-32/card.md", "results/ai-full-weak-negs/card.md")
EXPERIMENTS = ("cv-32", "ai-full-weak-negs")
STAGES = {"download_snapshot", "assign_splits", "label_splits", "tokenize", "train", "evaluate"}
GENERATED = 300  # records of the generated corpus the experiments also predict


def real_inputs(shared: Path, workdir: Path) -> dict:
    """Write the real records and real OpenAlex works as the workflow's inputs; return config."""
    snapshot = write_real_snapshot(shared, workdir / "inputs" / "arxiv.jsonl")
    works = workdir / "inputs" / "openalex-works.jsonl"
    with open(works, "w", encoding="utf-8") as out:
        for path in sorted((shared / "data" / "openalex" / "api").rglob("*.json")):
            for work in json.loads(path.read_text(encoding="utf-8")).get("results", []):
                out.write(json.dumps(work) + "\n")
    config = default_config()
    config["experiments"] = {name: config["experiments"][name] for name in EXPERIMENTS}
    config["snapshot"]["source"] = str(snapshot)
    config["weak_negatives"]["source"] = str(works)
    config["training"].update(
        model="builtin:tiny-bert", max_length=64, num_epochs=1, learning_rate=1e-3, device="cpu"
    )
    generated = workdir / "inputs" / "generated.jsonl"
    write_snapshot(generated, GENERATED, seed=11)
    config["predict"].update(
        corpora={"arxiv": "arxiv", "generated": str(generated)},
        device="cpu",
        chunk_rows=1000,
        batch_size=64,
    )
    return config


@pytest.fixture(scope="module")
def completed_run(tmp_path_factory, shared) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("e2e")
    config = real_inputs(shared, workdir)
    snakemake(workdir, "--", "summary", "predictions", *TARGETS, config=config, layered=False)
    return workdir, config


def test_dry_run_of_default_config_lists_every_stage(tmp_path):
    """The shipped config plans download -> splits -> tokenize -> train -> evaluate -> card."""
    for target in TARGETS:
        jobs = planned_jobs(tmp_path, target)
        assert STAGES | {"write_card"} <= set(jobs), jobs
    assert "prepare_weak_negatives" in planned_jobs(tmp_path, TARGETS[1])


def test_card_reports_the_evaluate_stage_numbers(completed_run):
    workdir, _ = completed_run
    for name in ("cv-32", "ai-full-weak-negs"):
        card = ModelCard.load(workdir / "results" / name / "card.md")
        metrics = json.loads((workdir / "results" / name / "eval" / "metrics.json").read_text())
        results = {}
        for result in card.data.eval_results:
            results.setdefault(result.dataset_split, {})[result.metric_type] = result.metric_value
        assert list(results) == ["validation", "test"]
        for split in results:
            for metric in ("accuracy", "f1", "precision", "recall"):
                assert results[split][metric] == pytest.approx(metrics[split][metric], abs=0)
        # The Hub parts: the card is also the model folder's README.
        assert card.data.pipeline_tag == "text-classification"
        assert card.data.library_name == "transformers"
        threshold = json.loads((workdir / "results" / name / "threshold.json").read_text())
        if threshold["signal"]:
            assert f"**{threshold['threshold']:.4f}**" in card.text
        else:  # the tiny run's one-epoch models can collapse to one score for every paper
            assert threshold["threshold"] == 0.5
            assert "This model shows no signal" in card.text and threshold["reason"] in card.text
        assert f'model="results/{name}/hub"' in card.text
        assert "More information needed" not in card.text
        table = card.text.split("### Training results", 1)[1].split("###", 1)[0]
        rows = [line for line in table.splitlines() if line.startswith("|")][2:]
        assert len(rows) == 1, table  # one epoch, one row


def test_weak_negatives_only_in_training(completed_run):
    import pyarrow.parquet as pq

    workdir, _ = completed_run
    data = workdir / "results" / "ai-full-weak-negs" / "data"
    train = pq.read_table(data / "train.parquet")
    assert sum(train["is_weak_negative"].to_pylist()) > 0
    for split in ("validation", "test"):
        assert not any(pq.read_table(data / f"{split}.parquet")["is_weak_negative"].to_pylist())


def test_summary_has_a_row_per_experiment(completed_run):
    workdir, _ = completed_run
    summary = (workdir / "results" / "summary.md").read_text(encoding="utf-8")
    for name in EXPERIMENTS:
        assert sum(line.startswith(f"| {name} ") for line in summary.splitlines()) == 1, summary
    csv_rows = (workdir / "results" / "summary.csv").read_text().strip().splitlines()
    assert len(csv_rows) == 1 + len(EXPERIMENTS)


def test_immediate_rerun_does_nothing(completed_run):
    workdir, config = completed_run
    assert planned_jobs(workdir, "summary", *TARGETS, config=config, layered=False) == {}


def test_changed_learning_rate_reruns_only_training_evaluation_and_card(completed_run):
    workdir, config = completed_run
    changed = json.loads(json.dumps(config))
    changed["experiments"]["cv-32"]["training"] = {"learning_rate": 5e-4}
    jobs = planned_jobs(workdir, *TARGETS, config=changed, layered=False)
    assert jobs == {"train": 1, "evaluate": 1, "choose_threshold": 1, "write_card": 1}


def test_config_errors_are_one_line_and_name_the_problem(tmp_path):
    cases = [
        ({"training": {"learning_rate": "fast"}}, "config: training.learning_rate: 'fast'"),
        (
            {"experiments": {"cv-32": {"labels": ["cs.VISION"]}}},
            "not arXiv categories: cs.VISION",
        ),
    ]
    for config, message in cases:
        result = snakemake(tmp_path, "-n", "--", TARGETS[0], config=config, check=False)
        assert result.returncode != 0
        assert message in result.stdout + result.stderr


def test_unknown_experiment_fails_listing_known_names(tmp_path):
    result = snakemake(tmp_path, "-n", "--", "results/cv-64/card.md", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "unknown experiment 'cv-64'" in output
    assert "cv-32" in output and "ai-full-weak-negs" in output


def test_malformed_json_line_fails_with_file_and_line(tmp_path, shared):
    snapshot = tmp_path / "bad.jsonl"
    lines = shared / "data" / "arxiv" / "snapshot-sample-2007-cs.AI-100-awalesushil.jsonl"
    good = lines.read_text(encoding="utf-8").splitlines()
    snapshot.write_text("\n".join([*good[:5], '{"id": "0704.9999", "title": ', *good[5:]]) + "\n")
    config = {"snapshot": {"source": str(snapshot)}}
    result = snakemake(tmp_path, "--", "results/data/arxiv.parquet", config=config, check=False)
    assert result.returncode != 0
    assert f"{snapshot}:6: malformed JSON" in result.stdout + result.stderr
    assert not (tmp_path / "results" / "data" / "arxiv.parquet").exists()


def test_label_set_matching_no_paper_fails_clearly(tmp_path, shared):
    source = shared / "data" / "arxiv" / "snapshot-sample-2007-cs.AI-100-awalesushil.jsonl"
    config = {
        "snapshot": {"source": str(source)},
        "splits": {"reference": {"min_year": 2007}},
        "experiments": {"astro": {"labels": ["astro-ph.GA"]}},
    }
    target = "results/astro/data/train.parquet"
    result = snakemake(tmp_path, "--", target, config=config, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "astro-ph.GA" in output and "match none of the" in output
    assert not (tmp_path / target).exists()


def test_workflow_leaves_no_checkpoints_behind(completed_run):
    workdir, _ = completed_run
    checkpoints = workdir / "results" / "checkpoints"
    assert not checkpoints.exists() or not any(checkpoints.rglob("*.safetensors"))


def planned(workdir: Path, config: dict, *targets: str) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run of ``targets`` would execute."""
    result = snakemake(workdir, "--dry-run", "--", *targets, config=config, layered=False)
    return dry_run_jobs(result.stdout + result.stderr)


def test_predictions_of_every_experiment_on_every_corpus(completed_run):
    workdir, _ = completed_run
    results = workdir / "results"
    corpus_rows = pq.ParquetFile(results / "data" / "arxiv.parquet").metadata.num_rows
    for corpus, rows in (("arxiv", corpus_rows), ("generated", GENERATED)):
        joined = pq.read_table(results / "predictions" / f"{corpus}.parquet")
        # One score column per experiment, in the (merged) config's order of experiments.
        assert joined.column_names[0] == "id"
        assert sorted(joined.column_names[1:]) == ["ai-full-weak-negs", "cv-32"]
        # One row per corpus record, in the corpus's order (a record listed twice is scored twice).
        source = results / "data" / "arxiv.parquet" if corpus == "arxiv" else None
        assert joined.num_rows == rows
        if source is not None:
            assert joined.column("id").to_pylist() == pq.read_table(source)["id"].to_pylist()
        for experiment in ("cv-32", "ai-full-weak-negs"):
            table = pq.read_table(results / "predictions" / corpus / f"{experiment}.parquet")
            assert table.column("probability").to_pylist() == joined.column(experiment).to_pylist()
            manifest = json.loads(
                (results / "predictions" / corpus / f"{experiment}.json").read_text()
            )
            threshold = json.loads((results / experiment / "threshold.json").read_text())
            assert manifest["papers"] == rows and manifest["threshold"] == threshold["threshold"]
            log = (results / "logs" / "predict" / corpus / f"{experiment}.log").read_text()
            assert "\r" not in log and f"{rows}/{rows} rows (100.0%)" in log and "ETA" in log
    assert not (results / "checkpoints" / "predict").exists() or not any(
        (results / "checkpoints" / "predict").rglob("chunk-*")
    )


def test_retrained_experiment_reruns_only_its_predictions(completed_run):
    workdir, config = completed_run
    assert planned(workdir, config, "predictions") == set()
    retrained = copy.deepcopy(config)
    retrained["experiments"]["cv-32"]["training"] = {"learning_rate": 5e-4}
    jobs = planned(workdir, retrained, "predictions")
    predict = {w for rule, w in jobs if rule == "predict"}
    assert predict == {"corpus=arxiv, experiment=cv-32", "corpus=generated, experiment=cv-32"}
    assert {w for rule, w in jobs if rule == "join_predictions"} == {
        "corpus=arxiv", "corpus=generated"
    }  # fmt: skip
    assert not any("ai-full-weak-negs" in w for _, w in jobs)
    assert not {rule for rule, _ in jobs} & {"download_snapshot", "assign_splits", "label_splits"}


def test_predictions_never_depend_on_the_card(tmp_path, shared):
    """The rule graph: no card (nor model folder) upstream of predict; the folder after the card."""
    config = real_inputs(shared, tmp_path)
    result = snakemake(tmp_path, "--rulegraph", "--", "predictions", "hub", config=config,
                       layered=False)  # fmt: skip
    names = dict(re.findall(r'^\s*(\d+)\[label = "(\w+)"', result.stdout, re.MULTILINE))
    edges = [(names[a], names[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", result.stdout,
                                                         re.MULTILINE)]  # fmt: skip
    upstream, frontier = set(), {"predict"}
    while frontier:
        frontier = {a for a, b in edges if b in frontier} - upstream
        upstream |= frontier
    assert {"train", "choose_threshold", "download_snapshot"} <= upstream
    assert not upstream & {"write_card", "package_model", "train_baseline"}
    assert ("write_card", "package_model") in edges
