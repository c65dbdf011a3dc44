"""End to end: the real workflow on the 3,200 real arXiv records in ../shared, tiny model.

One completed run (cv-32 and ai-full-weak-negs as configured in config/config.yaml, with a 2-layer
BERT trained for one epoch, and their summary) is shared by the tests of this module: the cards'
contents, the summary, the no-op rerun, and what a changed learning rate reruns.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from workflow_runner import default_config, planned_jobs, snakemake, write_real_snapshot

pytestmark = pytest.mark.e2e

TARGETS = ("results/cv-32/card.md", "results/ai-full-weak-negs/card.md")
EXPERIMENTS = ("cv-32", "ai-full-weak-negs")
STAGES = {"download_snapshot", "assign_splits", "label_splits", "tokenize", "train", "evaluate"}


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
    return config


@pytest.fixture(scope="module")
def completed_run(tmp_path_factory, shared) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("e2e")
    config = real_inputs(shared, workdir)
    snakemake(workdir, "--", "summary", *TARGETS, config=config, layered=False)
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
        assert f"**{threshold['threshold']:.4f}**" in card.text
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
