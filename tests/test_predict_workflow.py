"""The predict targets end to end: a tiny run over the real records in ../shared and a generated
corpus, and what Snakemake would rerun after a retrained experiment; the card is never upstream."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from workflow_runner import snakemake, write_real_snapshot

from arxivcat.synthetic.generate import write_snapshot

pytestmark = pytest.mark.e2e


def tiny_config(snapshot: Path, generated: Path) -> dict:
    return {
        "snapshot": {"source": str(snapshot)},
        "splits": {"reference": {"min_year": 2007}},
        "training": {
            "model": "builtin:tiny-bert",
            "max_length": 32,
            "num_epochs": 1,
            "learning_rate": 1e-3,
            "train_batch_size": 64,
            "eval_batch_size": 128,
            "device": "cpu",
        },
        "predict": {
            "corpora": {"arxiv": "arxiv", "generated": str(generated)},
            "device": "cpu",
            "chunk_rows": 1000,
            "batch_size": 64,
        },
        "experiments": {
            "cv-32": {"labels": ["cs.CV"], "dataset_config": "CV"},
            "ai-32": {"labels": ["cs.AI", "cs.LG"]},
        },
    }


def planned(workdir: Path, config: dict, *targets: str) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run of ``targets`` would execute."""
    result = snakemake(workdir, "--dry-run", "--", *targets, config=config, layered=False)
    text = result.stdout + result.stderr
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", text):
        header = re.match(r"(?:local)?rule (\w+):", block)
        if header:
            wildcards = re.search(r"^\s+wildcards: (.+)$", block, re.MULTILINE)
            jobs.add((header.group(1), wildcards.group(1).strip() if wildcards else ""))
    return jobs


@pytest.fixture(scope="module")
def finished(shared, tmp_path_factory) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("predict-e2e")
    snapshot = write_real_snapshot(shared, workdir / "snapshot.jsonl")
    generated = workdir / "generated.jsonl"
    write_snapshot(generated, 300, seed=11)
    config = tiny_config(snapshot, generated)
    snakemake(workdir, "--", "predictions", config=config, layered=False, timeout=3600)
    return workdir, config


def test_predictions_of_every_experiment_on_every_corpus(finished):
    workdir, _ = finished
    results = workdir / "results"
    corpus_rows = pq.ParquetFile(results / "data" / "arxiv.parquet").metadata.num_rows
    for corpus, rows in (("arxiv", corpus_rows), ("generated", 300)):
        joined = pq.read_table(results / "predictions" / f"{corpus}.parquet")
        # One score column per experiment, in the (merged) config's order of experiments.
        assert joined.column_names[0] == "id"
        assert sorted(joined.column_names[1:]) == ["ai-32", "cv-32"]
        # One row per corpus record, in the corpus's order (a record listed twice is scored twice).
        source = results / "data" / "arxiv.parquet" if corpus == "arxiv" else None
        assert joined.num_rows == rows
        if source is not None:
            assert joined.column("id").to_pylist() == pq.read_table(source)["id"].to_pylist()
        for experiment in ("cv-32", "ai-32"):
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
    assert not (results / "cv-32" / "card.md").exists()  # predicting needs no card


def test_retrained_experiment_reruns_only_its_predictions(finished):
    workdir, config = finished
    assert planned(workdir, config, "predictions") == set()
    retrained = copy.deepcopy(config)
    retrained["experiments"]["cv-32"]["training"] = {"learning_rate": 5e-4}
    jobs = planned(workdir, retrained, "predictions")
    predict = {w for rule, w in jobs if rule == "predict"}
    assert predict == {"corpus=arxiv, experiment=cv-32", "corpus=generated, experiment=cv-32"}
    assert {w for rule, w in jobs if rule == "join_predictions"} == {
        "corpus=arxiv", "corpus=generated"
    }  # fmt: skip
    assert not any("ai-32" in w for _, w in jobs)
    assert not {rule for rule, _ in jobs} & {"download_snapshot", "assign_splits", "label_splits"}


def test_predictions_never_depend_on_the_card(tmp_path):
    """The rule graph: no card (nor model folder) upstream of predict; the folder after the card."""
    config = tiny_config(tmp_path / "snapshot.jsonl", tmp_path / "generated.jsonl")
    (tmp_path / "generated.jsonl").write_text("")
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
