"""A summary across experiments: one row each, as Markdown, CSV and a bar chart of F1.

Each row comes from the files of one experiment, passed by path (:class:`ExperimentResults`):
the evaluate stage's ``metrics.json`` (validation and test metrics), the model directory's
``training_info.json`` (training time, throughput, best epoch), the ``split_report.json``
(weak-negative share, training rows) and, when computed, the baseline's ``metrics.json``, the
model's ``threshold.json`` and the frozen-encoder probe's ``metrics.json``.  The model and the
baselines are compared like with like: each at its own threshold chosen on validation, the probe
with its compute (its fits and its share of the split's embedding pass).  A multi-head
experiment's row gives its pooled (micro) numbers, and each of its heads is put beside the binary
experiment asking the same question (:mod:`arxivcat.report.shared_encoder`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import write_text_atomic
from arxivcat.report import shared_encoder
from arxivcat.report.choose_threshold import f1_at_threshold
from arxivcat.report.outputs import writing
from arxivcat.report.summary_settings import best_of_sweeps, varying_settings
from arxivcat.report.trainer_run import RunDirError, read_json

logger = logging.getLogger(__name__)

METRICS = ("f1", "precision", "recall", "accuracy")
COLUMNS = (
    "experiment",
    "sweep",
    "best_of_sweep",
    *(f"validation_{m}" for m in METRICS),
    *(f"test_{m}" for m in METRICS),
    "test_f1_at_threshold",
    "baseline_test_f1",
    "baseline_test_f1_at_threshold",
    "probe_test_f1",
    "probe_test_f1_at_threshold",
    "probe_hours",
    "weak_negative_share",
    "train_rows",
    "best_epoch",
    "train_hours",
    "train_samples_per_second",
    "device",
)


class SummaryError(ArxivcatError, ValueError):
    """A missing or malformed experiment result, described in one line."""


@dataclass(frozen=True)
class ExperimentResults:
    """The files one summary row is read from.

    Attributes:
        name: The experiment.
        metrics: The evaluate stage's ``metrics.json``.
        model_dir: The trained model directory (its ``training_info.json`` is read).
        split_report: The experiment's ``split_report.json``.
        baseline: The TF-IDF baseline's ``metrics.json``, or None when not computed.
        threshold: The model's ``threshold.json``, or None when not chosen.
        probe: The frozen-encoder probe's ``metrics.json``, or None when not computed.
        predictions: The evaluate stage's ``predictions.parquet``, or None when not read.
        sweep: The sweep the experiment belongs to, or None.
    """

    name: str
    metrics: Path
    model_dir: Path
    split_report: Path
    baseline: Path | None = None
    threshold: Path | None = None
    probe: Path | None = None
    predictions: Path | None = None
    sweep: str | None = None


def experiment_results(
    experiments: Sequence[str],
    metrics: Sequence[str | Path],
    models: Sequence[str | Path],
    split_reports: Sequence[str | Path],
    baselines: Sequence[str | Path] | None = None,
    thresholds: Sequence[str | Path] | None = None,
    probes: Sequence[str | Path] | None = None,
    predictions: Sequence[str | Path] | None = None,
    sweeps: dict[str, str] | None = None,
) -> list[ExperimentResults]:
    """Zip the rule's per-experiment input lists (each in the order of ``experiments``).

    ``sweeps`` maps an experiment of a sweep to its sweep.

    Raises:
        SummaryError: If a list does not hold one file per experiment.
    """
    lists = {"metrics": metrics, "models": models, "split_reports": split_reports}
    if baselines is not None:
        lists["baselines"] = baselines
    if thresholds is not None:
        lists["thresholds"] = thresholds
    if probes is not None:
        lists["probes"] = probes
    if predictions is not None:
        lists["predictions"] = predictions
    for key, paths in lists.items():
        if len(paths) != len(experiments):
            raise SummaryError(
                f"{key}: {len(paths)} files for {len(experiments)} experiments "
                f"({', '.join(experiments)})"
            )
    return [
        ExperimentResults(
            name=name,
            metrics=Path(metrics[i]),
            model_dir=Path(models[i]),
            split_report=Path(split_reports[i]),
            baseline=Path(baselines[i]) if baselines is not None else None,
            threshold=Path(thresholds[i]) if thresholds is not None else None,
            probe=Path(probes[i]) if probes is not None else None,
            predictions=Path(predictions[i]) if predictions is not None else None,
            sweep=(sweeps or {}).get(name),
        )
        for i, name in enumerate(experiments)
    ]


def _probe_columns(probe: dict[str, Any] | None) -> dict[str, Any]:
    """The probe's test F1 at 0.5 and at its own threshold, and its hours.

    Its hours are those of its fits and of its share of the split's embedding pass.
    """
    probe = probe or {}
    share = (probe.get("embedding") or {}).get("seconds")
    fit = probe.get("fit_seconds")
    return {
        "probe_test_f1": probe.get("test", {}).get("f1"),
        "probe_test_f1_at_threshold": f1_at_threshold(probe.get("threshold")),
        "probe_hours": None if fit is None or share is None else round((fit + share) / 3600, 4),
    }


def experiment_row(results: ExperimentResults) -> dict[str, Any]:
    """The summary row of one experiment (its training settings under ``settings``).

    Raises:
        SummaryError: If its metrics, training info, split report or (when given) baseline or
            threshold is missing or malformed.
    """
    name = results.name
    try:
        metrics = read_json(results.metrics)
        info = read_json(results.model_dir / "training_info.json")
        report = read_json(results.split_report)
        baseline = read_json(results.baseline) if results.baseline else None
        threshold = read_json(results.threshold) if results.threshold else None
        probe = read_json(results.probe) if results.probe else None
    except RunDirError as error:
        raise SummaryError(str(error)) from None
    assert metrics is not None and info is not None and report is not None
    row: dict[str, Any] = {"experiment": name, "sweep": results.sweep}
    row["settings"] = info.get("hyperparameters", {})
    for split in ("validation", "test"):
        for metric in METRICS:
            row[f"{split}_{metric}"] = metrics.get(split, {}).get(metric)
    row["test_f1_at_threshold"] = f1_at_threshold(threshold)
    row["baseline_test_f1"] = (baseline or {}).get("test", {}).get("f1")
    row["baseline_test_f1_at_threshold"] = f1_at_threshold((baseline or {}).get("threshold"))
    row.update(_probe_columns(probe))
    row["weak_negative_share"] = report.get("weak_negative_share", 0.0)
    row["train_rows"] = report.get("splits", {}).get("train", {}).get("rows")
    row["best_epoch"] = info.get("best_epoch")
    runtime = info.get("train_runtime")
    row["train_hours"] = round(runtime / 3600, 4) if runtime is not None else None
    row["train_samples_per_second"] = info.get("train_samples_per_second")
    row["device"] = info.get("device")
    return row


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "n/a"
    if key == "weak_negative_share":
        return f"{100 * value:.0f}%"
    if key == "best_epoch":
        return f"{value:g}"  # an epoch: 2, or 2.5 for a mid-epoch evaluation
    if key in ("train_hours", "probe_hours"):
        return f"{value:.2f}"
    if isinstance(value, float):
        return f"{value:.4f}" if key != "train_samples_per_second" else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _extra_cell(row: dict[str, Any], key: str) -> str:
    """A cell of the columns after the experiment: its sweep (the best marked) or a setting."""
    if key == "sweep":
        return f"{row['sweep']} **best**" if row["best_of_sweep"] else _cell(row["sweep"], key)
    value = row[key]
    if isinstance(value, float):
        return f"{value:g}"  # a learning rate of 2e-05, not 0.0000
    return json.dumps(value) if isinstance(value, dict | list) else _cell(value, key)


def markdown(
    rows: Sequence[dict[str, Any]], plot_name: str = "summary.png", settings: Sequence[str] = ()
) -> str:
    """The summary as a Markdown document linking the bar chart ``plot_name`` beside it.

    Beside the experiment: its sweep when any row has one (the sweep's best validation F1
    marked), and the training ``settings`` that differ between rows.
    """
    extra = [*(["sweep"] if any(row["sweep"] for row in rows) else []), *settings]
    header = (
        "| Experiment | "
        + "".join(f"{'Sweep' if key == 'sweep' else key} | " for key in extra)
        + "Val F1 | Val P | Val R | Val Acc | Test F1 | Test P | Test R | Test Acc "
        "| Test F1, own thr. | TF-IDF test F1 | TF-IDF test F1, own thr. | Probe test F1 "
        "| Probe test F1, own thr. | Probe h | Weak neg. | Train rows | Best epoch | Train h "
        "| Samples/s | Device |"
    )
    metrics = [key for key in COLUMNS if key not in ("experiment", "sweep", "best_of_sweep")]
    lines = [
        "# arxivcat: experiment summary",
        "",
        "Positive-class metrics of each experiment's final model at threshold 0.5 on its "
        "validation and test splits; test F1 of the model, of the class-weighted TF-IDF + "
        "logistic-regression baseline and of the frozen-encoder probe (a class-weighted logistic "
        "regression on the base model's embeddings) at 0.5 and at each one's own threshold "
        'chosen on validation ("own thr.": compare these like with like); the probe\'s hours '
        "(its fits and its share of the split's embedding pass), the weak-negative share of "
        "training, and training time.  Beside each experiment: the training settings that differ "
        "between experiments, and its sweep, whose best validation F1 is marked **best** (the "
        "test split never chooses).",
        "",
        f"![F1 by experiment]({plot_name})",
        "",
        header,
        "|"
        + "|".join([":---", *[":---"] * len(extra), *["---:"] * (len(metrics) - 1), ":---"])
        + "|",
    ]
    for row in rows:
        cells = [_cell(row["experiment"], "experiment")]
        cells += [_extra_cell(row, key) for key in extra]
        cells += [_cell(row[key], key) for key in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_summary(
    experiments: Sequence[ExperimentResults],
    markdown_path: str | Path,
    csv_path: str | Path,
    plot_path: str | Path,
) -> list[dict[str, Any]]:
    """Write the summary of ``experiments`` (Markdown, CSV, bar chart); return its rows.

    Args:
        experiments: Each experiment's result files, in the order of the table.
        markdown_path: The Markdown file to write (it links the chart by its relative path).
        csv_path: The CSV file to write (full precision).
        plot_path: The PNG bar chart (validation and test F1; test F1 of the model and the
            baseline at their own thresholds).

    Raises:
        SummaryError: If there is no experiment or one's results are missing.
        OutputError: If an output cannot be written (the message names it).
    """
    from arxivcat.report.plots import plot_summary

    if not experiments:
        raise SummaryError("no experiments to summarise")
    rows = [experiment_row(results) for results in experiments]
    values = [row.pop("settings") for row in rows]
    settings = varying_settings([own for own in values if own])  # rows that record them
    best = best_of_sweeps(rows)
    for row, own in zip(rows, values, strict=True):
        row["best_of_sweep"] = row["experiment"] in best if row["sweep"] else None
        row.update({key: own.get(key) for key in settings})
    buffer = io.StringIO()
    columns = [*COLUMNS[:3], *settings, *COLUMNS[3:]]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with writing(plot_path):
        plot_summary(
            [r["experiment"] for r in rows],
            {
                "validation F1": [r["validation_f1"] for r in rows],
                "test F1": [r["test_f1"] for r in rows],
                "test F1, own threshold": [r["test_f1_at_threshold"] for r in rows],
                "TF-IDF test F1, own threshold": [r["baseline_test_f1_at_threshold"] for r in rows],
                "frozen probe test F1, own threshold": [
                    r["probe_test_f1_at_threshold"] for r in rows
                ],
            },
            "F1 of the positive class by experiment",
            plot_path,
        )
    with writing(csv_path):
        write_text_atomic(csv_path, buffer.getvalue())
    plot_link = Path(os.path.relpath(plot_path, Path(markdown_path).parent)).as_posix()
    with writing(markdown_path):
        text = markdown(rows, plot_link, settings)
        if shared := shared_encoder.markdown(shared_encoder.comparison_rows(experiments)):
            text += f"\n{shared}"
        write_text_atomic(markdown_path, text)
    logger.info("summary of %d experiments written: %s", len(rows), markdown_path)
    return rows
