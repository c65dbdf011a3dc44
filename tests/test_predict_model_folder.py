"""The Hub-ready model folder: class names, recorded truncation, threshold, README, pipeline use."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from predict_fixtures import CARD, packaged_folder

from arxivcat.model.metrics import best_f1_threshold, threshold_metrics
from arxivcat.predict.model_folder import folder_digest, read_folder_info
from arxivcat.predict.scoring import load_classifier_folder, score_papers


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hub")
    packaged_folder(root)
    return root


@pytest.fixture(scope="module")
def folder(workdir) -> Path:
    return workdir / "results" / "cv-32" / "hub"


def test_threshold_maximises_f1_among_all_cuts():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300)
    scores = np.clip(0.3 * labels + rng.uniform(0, 0.7, 300), 0, 1)
    threshold = best_f1_threshold(labels, scores)
    best = threshold_metrics(labels, scores > threshold)["f1"]
    for cut in np.linspace(0, 1, 41):
        assert threshold_metrics(labels, scores > cut)["f1"] <= best + 1e-12
    assert best > threshold_metrics(labels, scores > 0.5)["f1"]
    assert not np.isin(threshold, scores)


def test_folder_names_classes_records_threshold_and_truncation(folder):
    config = json.loads((folder / "config.json").read_text())
    assert config["id2label"] == {"0": "not cs.CV", "1": "cs.CV"}
    assert config["label2id"] == {"not cs.CV": 0, "cs.CV": 1}
    info = read_folder_info(folder)
    assert info.max_length == 64 and info.threshold_source == "validation F1"
    assert 0 < info.threshold < 1 and info.threshold != 0.5
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    assert tokenizer["truncation"]["strategy"] == "OnlySecond"
    assert tokenizer["truncation"]["max_length"] == 64
    assert json.loads((folder / "tokenizer_config.json").read_text())["model_max_length"] == 64
    assert (folder / "card_loss.png").is_file()
    digest = folder_digest(folder)
    readme = (folder / "README.md").read_text()
    (folder / "README.md").write_text("another card")  # the card does not change the scores
    assert folder_digest(folder) == digest
    (folder / "README.md").write_text(readme)


def test_readme_is_the_card_with_hub_metadata_and_threshold(workdir):
    folder = packaged_folder(workdir / "again")
    readme = (folder / "README.md").read_text()
    assert readme == (folder.parent / "card.md").read_text()
    head, body = readme[4:].split("\n---\n", 1)
    meta = yaml.safe_load(head)
    assert meta["pipeline_tag"] == "text-classification"
    assert meta["library_name"] == "transformers" and meta["language"] == ["en"]
    splits = [r["dataset"]["split"] for r in meta["model-index"][0]["results"]]
    assert splits == ["validation", "test"]
    test = meta["model-index"][0]["results"][1]["metrics"]
    assert {m["type"]: m["value"] for m in test}["f1"] == 0.55
    assert CARD.split("---\n", 2)[2].strip() in body
    threshold = read_folder_info(folder).threshold
    assert f"**{threshold:.4f}**" in body
    assert re.search(r"\| test, threshold 0\.5 \|( [01]\.\d{4} \|){4}", body)
    assert re.search(rf"\| test, threshold {threshold:.4f} \|", body)


def pipeline_scores(folder: Path, papers: list[tuple[str, str]]) -> list[float]:
    from transformers import pipeline

    classifier = pipeline(
        "text-classification", model=str(folder), truncation="only_second", device="cpu"
    )
    out = []
    for title, abstract in papers:
        result = classifier({"text": title, "text_pair": abstract}, top_k=None)
        out.append({r["label"]: r["score"] for r in result}["cs.CV"])
    return out


def test_pipeline_gives_predict_scores_on_any_length(folder):
    words = [
        "image",
        "segmentation",
        "with",
        "convolutional",
        "networks",
        "and",
        "depth",
        "cameras",
    ]
    long_abstract = " ".join(words[i % len(words)] for i in range(6000))
    papers = [
        ("Object detection in video", "We detect objects in video frames with a network."),
        ("A note on prime gaps", "We bound gaps between consecutive primes."),
        ("Depth from a single image", long_abstract),
    ]
    classifier = load_classifier_folder(folder, "cpu", "fp32")
    ours = score_papers(classifier, [t for t, _ in papers], [a for _, a in papers], batch_size=2)
    theirs = pipeline_scores(folder, papers)
    assert np.abs(ours - np.asarray(theirs)).max() < 1e-4


def test_card_snippet_runs_as_written(workdir, folder):
    readme = (folder / "README.md").read_text()
    (snippet,) = re.findall(r"```python\n(.*?)```", readme, re.S)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", snippet], cwd=workdir, env=env, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    score, label = result.stdout.split()
    assert 0 < float(score) < 1 and label in ("True", "False")


def test_a_collapsed_model_gets_no_threshold_and_every_record_says_so(tmp_path, caplog):
    """Scores within 1e-6 of each other: any cut below them all would label every paper positive."""
    with caplog.at_level(logging.WARNING, logger="arxivcat"):
        folder = packaged_folder(tmp_path, collapsed=True)
    results = folder.parent
    record = json.loads((results / "threshold.json").read_text())
    assert record["signal"] is False and record["threshold"] == 0.5
    assert "do not tell papers apart" in record["reason"]
    assert record["validation"]["at_threshold"] == record["validation"]["at_0.5"]
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert str(results / "eval" / "predictions.parquet") in warning and "no signal" in warning
    info = json.loads((folder / "arxivcat.json").read_text())
    assert info["threshold"] == 0.5 and info["threshold_source"] == "default: no signal"
    section = (folder / "README.md").read_text().split("## Decision threshold", 1)[1]
    assert "no signal" in section and record["reason"] in section
    assert "maximises" not in section


def test_a_model_with_signal_records_it(workdir):
    record = json.loads((workdir / "results" / "cv-32" / "threshold.json").read_text())
    assert record["signal"] is True and "reason" not in record
