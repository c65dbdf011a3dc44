"""End to end: the real workflow on the 3,200 real arXiv records in ../shared, tiny model.

One completed run (cv-32, ai-full-weak-negs and the five-head fields-weak-negs as configured in
config/config.yaml, with a 2-layer BERT trained for one epoch, their summary, the multi-head
experiment's head cards and model folder, the frozen-encoder probes on the split's one embedding,
and the predictions on the downloaded corpus and on a generated one) is shared by the tests of
this module: the cards' contents, the summary, the predictions, the no-op rerun, and what a
changed learning rate or split, a new head or a card-only change reruns.
"""

from __future__ import annotations

import copy
import csv
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

from arxivcat import layout
from arxivcat.cli import main
from arxivcat.synthetic.generate import write_snapshot

pytestmark = pytest.mark.e2e

EXPERIMENTS = ("cv-32", "ai-full-weak-negs")
MULTI = "fields-weak-negs"  # AI, CV, Cyber, NLP and RO as one model
TARGETS = tuple(layout.CARD.format(experiment=name) for name in (*EXPERIMENTS, MULTI))
STAGES = {"download_snapshot", "assign_splits", "label_splits", "tokenize", "train", "evaluate"}
GENERATED = 300  # records of the generated corpus the experiments also predict
HOLDOUT = "2023-01-01"  # papers first submitted from this day on are held out


def real_inputs(shared: Path, workdir: Path) -> dict:
    """Write the real records and real OpenAlex works as the workflow's inputs; return config."""
    snapshot = write_real_snapshot(shared, workdir / "inputs" / "arxiv.jsonl")
    works = workdir / "inputs" / "openalex-works.jsonl"
    with open(works, "w", encoding="utf-8") as out:
        for path in sorted((shared / "data" / "openalex" / "api").rglob("*.json")):
            for work in json.loads(path.read_text(encoding="utf-8")).get("results", []):
                out.write(json.dumps(work) + "\n")
    config = default_config()
    config["experiments"] = {name: config["experiments"][name] for name in (*EXPERIMENTS, MULTI)}
    config["snapshot"]["source"] = str(snapshot)
    config["weak_negatives"]["source"] = str(works)
    config["training"].update(
        model="builtin:tiny-bert", max_length=64, num_epochs=1, learning_rate=1e-3, device="cpu"
    )
    # The newest papers held out; a deployment share and a temperature to show on the cards.
    config["splits"]["reference"]["holdout"] = {"from": HOLDOUT}
    config["experiments"]["cv-32"]["deployment_prevalence"] = [0.02]
    config["experiments"]["ai-full-weak-negs"]["calibration"] = "temperature"
    generated = workdir / "inputs" / "generated.jsonl"
    write_snapshot(generated, GENERATED, seed=11)
    config["predict"].update(
        corpora={"arxiv": "arxiv", "generated": str(generated)},
        device="cpu",
        chunk_rows=1000,
        batch_size=64,
    )
    config["embed"].update(device="cpu", chunk_rows=1000)
    return config


@pytest.fixture(scope="module")
def completed_run(tmp_path_factory, shared) -> tuple[Path, dict]:
    workdir = tmp_path_factory.mktemp("e2e")
    config = real_inputs(shared, workdir)
    hub = layout.HUB_FOLDER.format(experiment=MULTI)
    snakemake(workdir, "--", "summary", "predictions", "heads", hub, *TARGETS, config=config,
              layered=False)  # fmt: skip
    return workdir, config


def test_dry_run_of_default_config_lists_every_stage(tmp_path):
    """The shipped config plans download -> splits -> tokenize -> train -> evaluate -> card."""
    for target in TARGETS:
        jobs = planned_jobs(tmp_path, target)
        assert STAGES | {"write_card", "embed", "train_probe"} <= set(jobs), jobs
    assert {"prepare_weak_negatives", "embed_weak_negatives"} <= set(
        planned_jobs(tmp_path, TARGETS[1])
    )
    # A card without weak negatives needs neither them nor their embedding (nor an OpenAlex key),
    # though other experiments on its split add them.
    assert not {"prepare_weak_negatives", "embed_weak_negatives"} & set(
        planned_jobs(tmp_path, TARGETS[0])
    )
    # Every experiment of the shipped config is on one split with SPECTER: one embedding job, and
    # one of the weak-negative pool.
    jobs = planned_jobs(tmp_path, "summary")
    assert jobs["embed"] == jobs["embed_weak_negatives"] == 1, jobs
    assert jobs["train_probe"] == jobs["train"] == 8, jobs


def test_card_reports_the_evaluate_stage_numbers(completed_run):
    workdir, _ = completed_run
    for name in EXPERIMENTS:  # the binary experiments (the multi-head card: below)
        card = ModelCard.load(workdir / layout.CARD.format(experiment=name))
        metrics = json.loads((workdir / layout.EVAL_METRICS.format(experiment=name)).read_text())
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
        threshold = json.loads((workdir / layout.THRESHOLD.format(experiment=name)).read_text())
        if threshold["signal"]:
            assert f"**{threshold['threshold']:.4f}**" in card.text
        else:  # the tiny run's one-epoch models can collapse to one score for every paper
            assert threshold["threshold"] == 0.5
            assert "This model shows no signal" in card.text and threshold["reason"] in card.text
        assert f'model="{layout.HUB_FOLDER.format(experiment=name)}"' in card.text
        assert "More information needed" not in card.text
        table = card.text.split("### Training results", 1)[1].split("###", 1)[0]
        rows = [line for line in table.splitlines() if line.startswith("|")][2:]
        assert len(rows) == 1, table  # one epoch, one row


def test_weak_negatives_only_in_training(completed_run):
    import pyarrow.parquet as pq

    workdir, _ = completed_run
    tables = {
        split: workdir / pattern.format(experiment="ai-full-weak-negs")
        for split, pattern in (
            ("train", layout.TRAIN_TABLE),
            ("validation", layout.VALIDATION_TABLE),
            ("test", layout.TEST_TABLE),
        )
    }
    assert sum(pq.read_table(tables["train"])["is_weak_negative"].to_pylist()) > 0
    for split in ("validation", "test"):
        assert not any(pq.read_table(tables[split])["is_weak_negative"].to_pylist())


def test_summary_has_a_row_per_experiment(completed_run):
    workdir, _ = completed_run
    summary = (workdir / layout.SUMMARY).read_text(encoding="utf-8")
    for name in EXPERIMENTS:
        assert sum(line.startswith(f"| {name} ") for line in summary.splitlines()) == 1, summary
    csv_rows = (workdir / layout.SUMMARY_CSV).read_text().strip().splitlines()
    assert len(csv_rows) == 2 + len(EXPERIMENTS)


def test_summary_command_reads_the_workflows_results(completed_run, tmp_path):
    """`arxivcat summary` finds every file of the run where the workflow wrote it."""
    workdir, _ = completed_run
    output = tmp_path / "summary.md"
    argv = ["summary", "--results", str(workdir / layout.RESULTS), "--output", str(output)]
    # Every experiment of the run's config, in its order, as the workflow's summary has them.
    assert main([*argv, "--config", str(workdir / "test-config.yaml")]) == 0
    assert output.read_text() == (workdir / layout.SUMMARY).read_text()
    assert output.with_suffix(".csv").read_text() == (workdir / layout.SUMMARY_CSV).read_text()


def test_immediate_rerun_does_nothing(completed_run):
    workdir, config = completed_run
    assert planned_jobs(workdir, "summary", *TARGETS, config=config, layered=False) == {}


def test_changed_learning_rate_reruns_only_training_evaluation_and_card(completed_run):
    workdir, config = completed_run
    changed = json.loads(json.dumps(config))
    changed["experiments"]["cv-32"]["training"] = {"learning_rate": 5e-4}
    jobs = planned_jobs(workdir, *TARGETS, config=changed, layered=False)
    assert jobs == {"train": 1, "evaluate": 1, "choose_threshold": 1, "write_card": 1}


def test_predict_jobs_ask_for_their_own_resources(tmp_path):
    """resources.predict (and an experiment's own predict block), not evaluate's."""
    config = {
        "resources": {"evaluate": {"mem_mb": 1111}, "predict": {"mem_mb": 2222}},
        "experiments": {"cv-32": {"resources": {"predict": {"runtime": 33}}}},
    }
    target = layout.PREDICTIONS.format(corpus="arxiv", experiment="cv-32")
    result = snakemake(tmp_path, "--dry-run", "--", target, config=config)
    job = (result.stdout + result.stderr).split("rule predict:", 1)[1].split("\n\n", 1)[0]
    resources = re.search(r"^\s+resources: (.+)$", job, re.MULTILINE).group(1).split(", ")
    assert {"mem_mb=2222", "runtime=33", "cpus_per_task=4"} <= set(resources), resources


def test_config_errors_are_one_line_and_name_the_problem(tmp_path):
    cases = [
        ({"training": {"learning_rate": "fast"}}, "config: training.learning_rate: 'fast'"),
        (
            {"experiments": {"cv-32": {"labels": ["cs.VISION"]}}},
            "not arXiv categories: cs.VISION",
        ),
        (  # two models whose embeddings would share one file
            {
                "experiments": {
                    "cv-32": {"training": {"model": "org/model"}},
                    "ro-32": {"training": {"model": "org--model"}},
                }
            },
            "share the embedding name 'org--model_512'",
        ),
    ]
    for config, message in cases:
        result = snakemake(tmp_path, "-n", "--", TARGETS[0], config=config, check=False)
        assert result.returncode != 0
        assert message in result.stdout + result.stderr


def test_unknown_experiment_fails_listing_known_names(tmp_path):
    target = layout.CARD.format(experiment="cv-64")
    result = snakemake(tmp_path, "-n", "--", target, check=False)
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
    result = snakemake(tmp_path, "--", layout.CORPUS, config=config, check=False)
    assert result.returncode != 0
    assert f"{snapshot}:6: malformed JSON" in result.stdout + result.stderr
    assert not (tmp_path / layout.CORPUS).exists()


def test_label_set_matching_no_paper_fails_clearly(tmp_path, shared):
    source = shared / "data" / "arxiv" / "snapshot-sample-2007-cs.AI-100-awalesushil.jsonl"
    config = {
        "snapshot": {"source": str(source)},
        "splits": {"reference": {"min_year": 2007}},
        "experiments": {"astro": {"labels": ["astro-ph.GA"]}},
    }
    target = layout.TRAIN_TABLE.format(experiment="astro")
    result = snakemake(tmp_path, "--", target, config=config, check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "astro-ph.GA" in output and "match none of the" in output
    assert not (tmp_path / target).exists()


def test_workflow_leaves_no_checkpoints_behind(completed_run):
    workdir, _ = completed_run
    for name in EXPERIMENTS:
        checkpoints = workdir / layout.TRAIN_CHECKPOINTS.format(experiment=name)
        assert not checkpoints.exists() or not any(checkpoints.rglob("*.safetensors"))


def planned(workdir: Path, config: dict, *targets: str) -> set[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run of ``targets`` would execute."""
    result = snakemake(workdir, "--dry-run", "--", *targets, config=config, layered=False)
    return dry_run_jobs(result.stdout + result.stderr)


def test_predictions_of_every_experiment_on_every_corpus(completed_run):
    workdir, _ = completed_run
    corpus_path = workdir / layout.CORPUS
    corpus_rows = pq.ParquetFile(corpus_path).metadata.num_rows
    for corpus, rows in (("arxiv", corpus_rows), ("generated", GENERATED)):
        joined = pq.read_table(workdir / layout.JOINED_PREDICTIONS.format(corpus=corpus))
        # One score column per binary experiment and per head of the multi-head one.
        heads = [f"{MULTI}:{head}" for head in ("AI", "CV", "Cyber", "NLP", "RO")]
        assert joined.column_names[0] == "id"
        assert sorted(joined.column_names[1:]) == sorted(["ai-full-weak-negs", "cv-32", *heads])
        # One row per corpus record, in the corpus's order (a record listed twice is scored twice).
        assert joined.num_rows == rows
        if corpus == "arxiv":
            assert joined.column("id").to_pylist() == pq.read_table(corpus_path)["id"].to_pylist()
        for experiment in EXPERIMENTS:
            job = {"corpus": corpus, "experiment": experiment}
            table = pq.read_table(workdir / layout.PREDICTIONS.format(**job))
            assert table.column("probability").to_pylist() == joined.column(experiment).to_pylist()
            manifest = json.loads((workdir / layout.PREDICTIONS_MANIFEST.format(**job)).read_text())
            threshold = json.loads(
                (workdir / layout.THRESHOLD.format(experiment=experiment)).read_text()
            )
            assert manifest["papers"] == rows and manifest["threshold"] == threshold["threshold"]
            log = (workdir / layout.log("predict", corpus, experiment)).read_text()
            assert "\r" not in log and f"{rows}/{rows} rows (100.0%)" in log and "ETA" in log
            chunks = workdir / layout.PREDICT_CHUNKS.format(**job)
            assert not chunks.exists() or not any(chunks.rglob("chunk-*"))


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


def _heads(workdir: Path) -> list[str]:
    report = json.loads((workdir / layout.SPLIT_REPORT.format(experiment=MULTI)).read_text())
    return [head["name"] for head in report["heads"]]


def test_every_head_has_its_card_and_the_model_card_tabulates_them(completed_run):
    workdir, _ = completed_run
    heads = _heads(workdir)
    assert heads == ["AI", "CV", "Cyber", "NLP", "RO"]
    metrics = json.loads((workdir / layout.EVAL_METRICS.format(experiment=MULTI)).read_text())
    chosen = json.loads((workdir / layout.THRESHOLD.format(experiment=MULTI)).read_text())
    for head in heads:
        card = ModelCard.load(workdir / layout.HEAD_CARD.format(experiment=MULTI, head=head))
        assert card.data.model_name == f"{MULTI}-{head}"
        values = {(r.dataset_split, r.metric_type): r.metric_value for r in card.data.eval_results}
        assert {r.dataset_config for r in card.data.eval_results} == {head}
        assert values[("test", "f1")] == metrics["heads"][head]["test"]["f1"]
        assert f"Head `{head}` of `{MULTI}`" in card.text
        if chosen["heads"][head]["signal"]:
            assert f"**{chosen['heads'][head]['threshold']:.4f}**" in card.text
    card = ModelCard.load(workdir / layout.CARD.format(experiment=MULTI))
    assert {r.dataset_config for r in card.data.eval_results} == set(heads)
    rows = {line.split(" | ")[0][2:]: line for line in card.text.splitlines()
            if line.startswith(("| AI |", "| CV |", "| Cyber |", "| NLP |", "| RO |"))}  # fmt: skip
    assert list(rows) == heads
    for head, row in rows.items():
        # Its paired differences against the probe and TF-IDF, as on the head's own card.
        own = (workdir / layout.HEAD_CARD.format(experiment=MULTI, head=head)).read_text()
        comparison = own.split("### Comparison with baselines", 1)[1].split("\n### ", 1)[0]
        cell = {line.split(" | ")[0][2:8]: line.split(" | ")[6] for line in comparison.splitlines()
                if line.startswith(("| frozen base encoder", "| TF-IDF"))}  # fmt: skip
        assert row.removesuffix(" |").split(" | ")[-2:] == [cell["frozen"], cell["TF-IDF"]]
    assert "each head's own" in card.text and "Macro F1" in card.text


def test_multi_head_folder_predictions_and_snippet(completed_run):
    import os
    import subprocess
    import sys

    workdir, _ = completed_run
    folder = workdir / layout.HUB_FOLDER.format(experiment=MULTI)
    config = json.loads((folder / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    assert sorted(config["id2label"].values()) == _heads(workdir)
    info = json.loads((folder / "arxivcat.json").read_text())
    chosen = json.loads((workdir / layout.THRESHOLD.format(experiment=MULTI)).read_text())
    assert info["thresholds"] == {h: r["threshold"] for h, r in chosen["heads"].items()}
    table = pq.read_table(workdir / layout.PREDICTIONS.format(corpus="arxiv", experiment=MULTI))
    for head in _heads(workdir):
        probability = table[f"probability:{head}"].to_pylist()
        labels = table[f"label:{head}"].to_pylist()
        for p, label in zip(probability, labels, strict=True):
            assert p is None or label == int(p > info["thresholds"][head])
    readme = (folder / "README.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", snippet], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def test_summary_puts_heads_beside_their_binary_experiments(completed_run):
    workdir, _ = completed_run
    summary = (workdir / layout.SUMMARY).read_text(encoding="utf-8")
    section = summary.split("## One encoder for many questions", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith(f"| {MULTI} |")]
    assert [row.split(" | ")[1:3] for row in rows] == [
        ["AI", "ai-full-weak-negs"], ["CV", "cv-32"]
    ]  # fmt: skip
    assert "| 10% / 10% |" in rows[0] and "| 10% / 0% |" in rows[1]
    # Weak negatives join training only: both pairs were tested on the same papers, and the
    # difference at own thresholds comes with its interval.
    interval = r"\| [+-]\d\.\d{4} \[[+-]\d\.\d{4}, [+-]\d\.\d{4}\] \|"
    assert all(re.search(interval, row) for row in rows), rows


def test_a_new_head_retrains_its_experiment_only_and_a_card_change_retrains_nothing(
    completed_run,
):
    workdir, config = completed_run
    grown = copy.deepcopy(config)
    grown["experiments"][MULTI]["heads"]["LG"] = ["cs.LG"]
    jobs = planned(workdir, grown, *TARGETS, "heads")
    assert {w for rule, w in jobs if rule == "train"} == {f"experiment={MULTI}"}
    assert not {rule for rule, _ in jobs} & {"download_snapshot", "assign_splits"}
    renamed = copy.deepcopy(config)
    renamed["experiments"][MULTI]["dataset_config"] = "Five fields, one model"
    jobs = planned(workdir, renamed, *TARGETS, "heads") - {("heads", "")}
    assert {rule for rule, _ in jobs} == {"write_card", "write_head_card"}
    assert all(MULTI in w for _, w in jobs)


def test_the_newest_papers_are_held_out_of_every_split_and_shown_on_the_cards(completed_run):
    workdir, _ = completed_run
    assignment = pq.read_table(workdir / layout.ASSIGNMENT.format(split="reference"))
    corpus = pq.read_table(workdir / layout.CORPUS, columns=["id", "submitted"]).to_pylist()
    submitted = {row["id"]: str(row["submitted"]) for row in corpus}
    for row in assignment.to_pylist():
        assert (row["split"] == "heldout") == (submitted[row["id"]] >= HOLDOUT), row
    for name in (*EXPERIMENTS, MULTI):
        tables = {
            split: set(pq.read_table(workdir / pattern.format(experiment=name))["id"].to_pylist())
            for split, pattern in (("train", layout.TRAIN_TABLE), ("validation",
                                   layout.VALIDATION_TABLE), ("test", layout.TEST_TABLE),
                                   ("heldout", layout.HELDOUT_TABLE))
        }  # fmt: skip
        assert tables["heldout"] and all(submitted[i] >= HOLDOUT for i in tables["heldout"])
        for split in ("train", "validation", "test"):
            assert not tables[split] & tables["heldout"], (name, split)
    for name in EXPERIMENTS:
        text = (workdir / layout.CARD.format(experiment=name)).read_text()
        years = text.split("### Newer papers and years", 1)[1].split("\n### ", 1)[0]
        assert f"first submitted on or after {HOLDOUT}" in years
        assert "| this model (fine-tuned) |" in years and "| TF-IDF + logistic" in years
        held = {line.split(" | ")[1] for line in years.splitlines() if line.startswith("| heldout")}
        assert held and held <= {"2023", "2024"}
        shares = text.split("### Other shares of positives", 1)[1].split("\n### ", 1)[0]
        assert "| corpus, all years: " in shares and "TF-IDF" in shares
        assert "Expected calibration error on validation" in text
    cv = (workdir / layout.CARD.format(experiment="cv-32")).read_text()
    assert "| deployment (2%): 2.00% |" in cv
    chosen = json.loads(
        (workdir / layout.THRESHOLD.format(experiment="ai-full-weak-negs")).read_text()
    )
    assert chosen["temperature"] > 0 and "heldout" in chosen
    card = (workdir / layout.CARD.format(experiment="ai-full-weak-negs")).read_text()
    assert f"A temperature of {chosen['temperature']:.3f}" in card


def test_predictions_report_the_labelled_and_the_corrected_share(completed_run):
    workdir, _ = completed_run
    job = {"corpus": "arxiv", "experiment": "cv-32"}
    manifest = json.loads((workdir / layout.PREDICTIONS_MANIFEST.format(**job)).read_text())
    assert manifest["labelled_positive_share"] == manifest["positives"] / manifest["scored"]
    assert "estimated_prevalence" in manifest


def test_a_holdout_change_reruns_the_splits_and_a_deployment_share_only_the_card(completed_run):
    workdir, config = completed_run
    moved = copy.deepcopy(config)
    moved["splits"]["reference"]["holdout"] = {"from": "2024-01-01"}
    rules = {rule for rule, _ in planned(workdir, moved, *TARGETS)}
    assert {"assign_splits", "label_splits", "tokenize", "train", "evaluate", "write_card"} <= rules
    assert "download_snapshot" not in rules
    shares = copy.deepcopy(config)
    shares["experiments"]["cv-32"]["deployment_prevalence"] = [0.02, 0.3]
    assert planned(workdir, shares, *TARGETS) == {("write_card", "experiment=cv-32")}


ENCODER = layout.encoder_key("builtin:tiny-bert", 64)


def test_one_embedding_per_split_serves_all_its_experiments(completed_run):
    """One embed job for the experiments of the split, one for the weak-negative pool; a changed
    split redoes the split's once."""
    workdir, config = completed_run
    manifest = json.loads(
        (
            workdir / layout.EMBEDDINGS_MANIFEST.format(split="reference", encoder=ENCODER)
        ).read_text()
    )
    weak = json.loads(
        (workdir / layout.WEAK_NEGATIVE_EMBEDDINGS_MANIFEST.format(encoder=ENCODER)).read_text()
    )
    assert manifest["weak_negatives"] is False and manifest["papers"] > 0
    assert weak["weak_negatives"] is True and weak["papers"] > 0
    logs = sorted((workdir / Path(layout.log("embed", "any")).parent).rglob("*.log"))
    assert [log.relative_to(workdir) for log in logs] == [
        Path(layout.log("embed", "reference", ENCODER))
    ]
    log = logs[0].read_text()
    assert "\r" not in log and "ETA" in log and "(100.0%)" in log
    assert not (workdir / layout.EMBED_CHUNKS.format(split="reference", encoder=ENCODER)).exists()
    for name in (*EXPERIMENTS, MULTI):
        probe = json.loads((workdir / layout.PROBE_METRICS.format(experiment=name)).read_text())
        # ai-full-weak-negs and fields-weak-negs read the pool's embedding too.
        passes = [manifest, weak] if "weak-negs" in name else [manifest]
        assert probe["embedding"]["of"] == sum(m["pass"]["rows"] for m in passes)
        assert probe["embedding"]["pass_seconds"] == round(
            sum(m["pass"]["seconds"] for m in passes), 3
        )
    moved = copy.deepcopy(config)
    moved["splits"]["reference"]["min_year"] = 2012
    jobs = planned(workdir, moved, *TARGETS)
    embedding = ("embed", "embed_weak_negatives", "assign_splits")
    assert {(rule, w) for rule, w in jobs if rule in embedding} == {
        ("assign_splits", "split=reference"),
        ("embed", f"split=reference, encoder={ENCODER}"),
    }
    assert {w for rule, w in jobs if rule == "train_probe"} == {
        f"experiment={name}" for name in (*EXPERIMENTS, MULTI)
    }


def _probe(workdir: Path, name: str) -> dict:
    return json.loads((workdir / layout.PROBE_METRICS.format(experiment=name)).read_text())


def test_the_frozen_probe_reaches_every_card_and_the_summary(completed_run):
    workdir, _ = completed_run
    summary = {
        row["experiment"]: row
        for row in csv.DictReader((workdir / layout.SUMMARY_CSV).open(encoding="utf-8"))
    }
    for name in EXPERIMENTS:
        probe = _probe(workdir, name)
        at_threshold = probe["threshold"]["test"]["at_threshold"]["f1"]
        card = (workdir / layout.CARD.format(experiment=name)).read_text()
        comparison = card.split("### Comparison with baselines", 1)[1].split("\n### ", 1)[0]
        (row,) = [line for line in comparison.splitlines() if line.startswith("| frozen base")]
        assert f"| {probe['validation']['f1']:.4f} | {probe['test']['f1']:.4f} |" in row
        assert f"**{at_threshold:.4f}**" in row and "share of the embedding pass" in row
        assert float(summary[name]["probe_test_f1_at_threshold"]) == at_threshold
        assert float(summary[name]["probe_test_f1"]) == probe["test"]["f1"]
        # On the held-out newest papers too, and at the other shares of positives.
        held = probe["threshold"]["heldout"]["at_threshold"]["f1"]
        years = card.split("### Newer papers and years", 1)[1].split("\n### ", 1)[0]
        frozen = "frozen base encoder (CLS pooling) + logistic regression, class-weighted"
        assert f"| {frozen} | " in years and f"| {held:.4f} |" in years
        shares = card.split("### Other shares of positives", 1)[1].split("\n### ", 1)[0]
        assert f"{frozen}: F1" in shares
    probe = _probe(workdir, MULTI)
    card = (workdir / layout.CARD.format(experiment=MULTI)).read_text()
    header = next(line for line in card.splitlines() if line.startswith("| Head |")).split(" | ")
    column = header.index("Frozen probe test F1 at its own threshold")
    for head in _heads(workdir):
        frozen = probe["heads"][head]["threshold"]["test"]["at_threshold"]["f1"]
        (row,) = [line for line in card.splitlines() if line.startswith(f"| {head} |")]
        assert row.split(" | ")[column] == f"{frozen:.4f}"
        head_card = (workdir / layout.HEAD_CARD.format(experiment=MULTI, head=head)).read_text()
        assert f"**{frozen:.4f}**" in head_card.split("| frozen base encoder", 1)[1].split("\n")[0]
