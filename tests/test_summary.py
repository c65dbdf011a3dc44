"""The summary across experiments: Markdown, CSV and bar chart from each one's results."""

from __future__ import annotations

import csv
import dataclasses
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arxivcat import layout
from arxivcat.cli import workflow_results
from arxivcat.model.metrics import f1_difference_interval
from arxivcat.model.split_scoring import predictions_schema
from arxivcat.report.choose_threshold import choose_threshold
from arxivcat.report.summarize import (
    SummaryError,
    experiment_results,
    write_summary,
)


def fake_results(root, name, f1, weak=0.0, baseline=True, probe=True):
    """Experiment ``name``'s files in the results folder ``root``, laid out as the workflow's."""
    results = workflow_results(root, name)
    for path in (results.metrics, results.model_dir / "training_info.json", results.split_report):
        path.parent.mkdir(parents=True, exist_ok=True)
    metrics = {
        split: {"f1": f1 - d, "precision": 0.9 - d, "recall": 0.8 - d, "accuracy": 0.97 - d}
        for split, d in (("validation", 0.0), ("test", 0.01))
    }
    results.metrics.write_text(json.dumps(metrics))
    info = {
        "train_runtime": 7200.0,
        "train_samples_per_second": 57.1,
        "best_epoch": 2.0,  # as the train stage writes it
        "device": "NVIDIA H100",
    }
    (results.model_dir / "training_info.json").write_text(json.dumps(info))
    report = {"weak_negative_share": weak, "splits": {"train": {"rows": 1203010}}}
    results.split_report.write_text(json.dumps(report))
    if baseline:
        path = layout.under(root, layout.BASELINE_METRICS, experiment=name)
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"test": {"f1": 0.7}}))
    if probe:
        path = layout.under(root, layout.PROBE_METRICS, experiment=name)
        path.parent.mkdir(parents=True)
        record = {
            "test": {"f1": 0.8},
            "threshold": {"test": {"at_threshold": {"f1": 0.82}}},
            "fit_seconds": 30.0,
            "embedding": {"seconds": 330.0, "rows": 10, "of": 70},
        }
        path.write_text(json.dumps(record))
    return workflow_results(root, name)


def test_summary_has_one_row_per_experiment(tmp_path):
    experiments = [
        fake_results(tmp_path, "cv-32", 0.873),
        fake_results(tmp_path, "ai-full-weak-negs", 0.8937, weak=0.1, baseline=False, probe=False),
    ]
    rows = write_summary(
        experiments,
        tmp_path / "summary.md",
        tmp_path / "summary.csv",
        tmp_path / "summary.png",
    )
    assert [r["experiment"] for r in rows] == ["cv-32", "ai-full-weak-negs"]
    table = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert float(table[0]["validation_f1"]) == 0.873
    assert float(table[1]["test_f1"]) == pytest.approx(0.8837)
    assert table[1]["weak_negative_share"] == "0.1" and table[1]["baseline_test_f1"] == ""
    assert table[0]["train_hours"] == "2.0"
    # The frozen probe: test F1 at 0.5 and at its own threshold, hours of its fits and its share
    # of the embedding pass.
    assert (table[0]["probe_test_f1"], table[0]["probe_test_f1_at_threshold"]) == ("0.8", "0.82")
    assert table[0]["probe_hours"] == "0.1" and table[1]["probe_hours"] == ""
    text = (tmp_path / "summary.md").read_text()
    assert "| cv-32 | 0.8730 | 0.9000 | 0.8000 | 0.9700 | 0.8630 |" in text
    assert "| 10% | 1,203,010 | 2 | 2.00 | 57.1 | NVIDIA H100 |" in text
    assert "| 0.7000 | n/a | 0.8000 | 0.8200 | 0.10 | 0% |" in text
    assert "| Probe test F1 | Probe test F1, own thr. | Probe h |" in text
    assert "![F1 by experiment](summary.png)" in text
    assert (tmp_path / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_results_name_the_file(tmp_path):
    results = fake_results(tmp_path, "cv-32", 0.87)
    (results.model_dir / "training_info.json").unlink()
    with pytest.raises(SummaryError, match=r"training_info\.json: file not found"):
        write_summary([results], tmp_path / "s.md", tmp_path / "s.csv", tmp_path / "s.png")
    assert not (tmp_path / "s.md").exists()


def test_rows_come_from_the_files_given(tmp_path):
    a = fake_results(tmp_path / "a", "cv-32", 0.873)
    b = fake_results(tmp_path / "b", "cv-32", 0.5, baseline=False)
    # The metrics of one tree, the rest of the other: the row reads what it is given.
    (results,) = experiment_results(
        ["cv-32"],
        metrics=[a.metrics],
        models=[b.model_dir],
        split_reports=[b.split_report],
        baselines=[a.baseline],
    )
    (row,) = write_summary([results], tmp_path / "s.md", tmp_path / "s.csv", tmp_path / "s.png")
    assert row["validation_f1"] == 0.873 and row["baseline_test_f1"] == 0.7
    with pytest.raises(SummaryError, match=r"models: 0 files for 1 experiments \(cv-32\)"):
        experiment_results(["cv-32"], metrics=[results.metrics], models=[], split_reports=[])


def test_unwritable_output_names_the_path(tmp_path):
    from arxivcat.report.outputs import OutputError

    results = fake_results(tmp_path, "cv-32", 0.87)
    # sysfs refuses new files even to root.
    with pytest.raises(OutputError, match=r"^/sys/s\.csv: cannot write: Permission denied$"):
        write_summary([results], tmp_path / "s.md", "/sys/s.csv", tmp_path / "s.png")
    assert not (tmp_path / "s.md").exists()


def test_chart_legend_covers_no_bar():
    from arxivcat.report.plots import summary_figure

    names = ["cv-32", "ai-full-weak-negs", "ro-32"]
    figure = summary_figure(
        names,
        {"validation F1": [0.99, 0.98, 1.0], "test F1": [0.0, 1.0, None], "baseline": [1.0] * 3},
        "F1",
    )
    figure.canvas.draw()
    (axes,) = figure.axes
    legend = axes.get_legend().get_window_extent()
    bars = [patch.get_window_extent() for patch in axes.patches]
    assert len(bars) == 9
    assert not any(legend.overlaps(bar) for bar in bars)
    # A zero F1 draws no bar and a missing one none either: the values say which is which.
    texts = [text.get_text() for text in axes.texts if text.get_text()]
    assert texts.count("0.00") == 1 and texts.count("n/a") == 1 and texts.count("1.00") == 5
    assert "nan" not in texts


def write_predictions(root, name, ids, labels, scores, heads=None):
    """Evaluate's predictions and the threshold chosen on them, where the workflow keeps them."""
    split = np.where(np.arange(len(ids)) % 2 == 0, "validation", "test")
    table = pa.table(
        {
            "id": ids,
            "split": split,
            "probability": scores.tolist(),
            "label": labels.astype(np.int8).tolist(),
            "is_weak_negative": [False] * len(ids),
        },
        schema=predictions_schema(heads),
    )
    predictions = layout.under(root, layout.EVAL_PREDICTIONS, experiment=name)
    pq.write_table(table, predictions)
    chosen = choose_threshold(predictions)
    threshold = layout.under(root, layout.THRESHOLD, experiment=name)
    threshold.parent.mkdir(parents=True, exist_ok=True)
    threshold.write_text(json.dumps(chosen))
    return chosen


def test_each_head_is_put_beside_the_binary_model_of_its_question(tmp_path):
    cv = fake_results(tmp_path, "cv-32", 0.87)
    ro = fake_results(tmp_path, "ro-32", 0.70)
    multi = fake_results(tmp_path, "fields", 0.80)
    split = {"split": "reference", "split_settings": {"seed": 1}, "label_mode": "any",
             "weak_negative_share": 0.0, "sample_pct": 100}  # fmt: skip
    for results, labels in ((cv, ["cs.CV"]), (ro, ["cs.RO"])):
        report = {**split, "labels": labels, "splits": {"train": {"rows": 100}}}
        results.split_report.write_text(json.dumps(report))
    heads = [{"name": "CV", "labels": ["cs.CV"]}, {"name": "RO", "labels": ["cs.RO"]},
             {"name": "NLP", "labels": ["cs.CL"]}]  # fmt: skip
    report = {**split, "labels": [], "heads": heads, "splits": {"train": {"rows": 100}}}
    multi.split_report.write_text(json.dumps(report))
    metrics = json.loads(multi.metrics.read_text())
    metrics["heads"] = {
        h: {"validation": {"f1": 0.85}, "test": {"f1": f}}
        for h, f in (("CV", 0.86), ("RO", 0.71), ("NLP", 0.5))
    }
    multi.metrics.write_text(json.dumps(metrics))
    for results, rows, hours in ((cv, 1000, 2.0), (ro, 1000, 2.0), (multi, 1000, 2.2)):
        info = {"train_samples": rows, "train_runtime": hours * 3600,
                "hyperparameters": {"num_epochs": 3}}  # fmt: skip
        (results.model_dir / "training_info.json").write_text(json.dumps(info))
    # Predictions and thresholds of the multi-head model and cv-32 (none for ro-32).  cv-32 was
    # tested on 100 fewer papers: the interval is over the papers both were scored on.
    rng = np.random.default_rng(0)
    ids = np.array([f"{i:04d}.0000" for i in range(4000)])
    labels = rng.random((4000, 3)) < 0.1
    scores = np.clip(labels * 0.4 + rng.random((4000, 3)) * 0.6, 0, 1)
    multi_t = write_predictions(tmp_path, "fields", ids, labels, scores, ["CV", "NLP", "RO"])
    twin = np.clip(labels[:, 0] * 0.3 + rng.random(4000) * 0.7, 0, 1)
    cv_t = write_predictions(tmp_path, "cv-32", ids[:3800], labels[:3800, 0], twin[:3800])
    cv, multi = workflow_results(tmp_path, "cv-32"), workflow_results(tmp_path, "fields")
    write_summary([cv, ro, multi], tmp_path / "s.md", tmp_path / "s.csv", tmp_path / "s.png")
    text = (tmp_path / "s.md").read_text()
    section = text.split("## One encoder for many questions", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| fields")]
    # NLP has no binary twin in this summary: two rows.
    assert len(rows) == 2
    ours, theirs = (t["test"]["at_threshold"]["f1"] for t in (multi_t["heads"]["CV"], cv_t))
    test = np.arange(1, 3800, 2)
    expected = f1_difference_interval(
        labels[test, 0],
        scores[test, 0] > multi_t["heads"]["CV"]["threshold"],
        twin[test] > cv_t["threshold"],
    )
    assert rows[0].startswith(
        "| fields | CV | cv-32 | 0% / 0% | 0.8600 / 0.8600 | "
        f"{multi_t['heads']['CV']['validation']['at_threshold']['f1']:.4f} / "
        f"{cv_t['validation']['at_threshold']['f1']:.4f} | {ours:.4f} / {theirs:.4f} | "
        f"{expected['difference']:+.4f} [{expected['low']:+.4f}, {expected['high']:+.4f}] "
        "on 1,900 shared papers |"
    )
    assert expected["low"] < expected["difference"] < expected["high"]
    # Without ro-32's predictions and threshold there is no difference at own thresholds.
    assert re.match(
        r"\| fields \| RO \| ro-32 \| 0% / 0% \| 0.7100 / 0.6900 \| 0\.\d{4} / n/a \| "
        r"0\.\d{4} / n/a \| n/a \|",
        rows[1],
    )
    assert "| 3,000 / 3,000 | 2.200 / 2.000 |" in rows[0]
    assert "3,000 samples processed against 6,000 for the 2 binary models (50% of their" in section


def test_a_sweeps_rows_show_the_settings_that_differ_and_mark_the_best(tmp_path):
    experiments = []
    for name, f1, rate, epochs in (
        ("lr.a", 0.80, 2e-5, 1),
        ("lr.b", 0.85, 5e-5, 1),  # the best on validation, though not on test
        ("lr.c", 0.70, 2e-5, 2),
    ):
        results = fake_results(tmp_path, name, f1)
        info_path = results.model_dir / "training_info.json"
        info = json.loads(info_path.read_text())
        # The same model and seed everywhere; report_to differs but changes no model.
        info["hyperparameters"] = {
            "model": "m", "seed": 1, "learning_rate": rate, "num_epochs": epochs,
            "report_to": ["tensorboard"] if name == "lr.a" else [],
        }  # fmt: skip
        info_path.write_text(json.dumps(info))
        experiments.append(dataclasses.replace(results, sweep="lr"))
    experiments.append(fake_results(tmp_path, "plain", 0.99))
    rows = write_summary(experiments, tmp_path / "s.md", tmp_path / "s.csv", tmp_path / "s.png")
    assert [row["best_of_sweep"] for row in rows] == [False, True, False, None]
    table = list(csv.DictReader((tmp_path / "s.csv").open()))
    assert list(table[0])[:5] == ["experiment", "sweep", "best_of_sweep", "learning_rate",
                                  "num_epochs"]  # fmt: skip
    assert [row["learning_rate"] for row in table] == ["2e-05", "5e-05", "2e-05", ""]
    text = (tmp_path / "s.md").read_text()
    assert "| Experiment | Sweep | learning_rate | num_epochs | Val F1 |" in text
    assert "| lr.b | lr **best** | 5e-05 | 1 | 0.8500 |" in text
    assert "| plain | n/a | n/a | n/a | 0.9900 |" in text
    assert "report_to" not in text
