"""Hugging Face model cards in the reference's format, with what its readers were missing.

Where the reference said "More information needed" the card states the model's purpose and label
definition, the data (snapshot, year filter, split sizes, positive rates, weak negatives), test
metrics, best versus last epoch, hardware and throughput, a TF-IDF baseline, and plots saved
beside it.  Facts a run did not record are named as unknown in plain words.  Rendering never
touches the network.  Facts are gathered in :mod:`~arxivcat.report.card_facts`, the sections
written in :mod:`~arxivcat.report.card_sections`/:mod:`~arxivcat.report.card_training` and put
together in :mod:`~arxivcat.report.card_render`.

Two entry points: :func:`write_card` for the workflow (every path from the rule), whose card also
carries the Hub parts of :mod:`~arxivcat.report.hub_card` (it is the model folder's README), and
:func:`card_from_run_dir` for any Trainer output directory (the CLI), in the reference's format.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard

from arxivcat.report.card_facts import CardError, CardFacts, run_dir_facts, workflow_facts
from arxivcat.report.card_render import render_card
from arxivcat.report.drift import drift_facts, split_scores
from arxivcat.report.hub_card import class_names, hub_card
from arxivcat.report.outputs import writing
from arxivcat.report.paired import f1_differences_on_test

logger = logging.getLogger(__name__)

PLACEHOLDER = "More information needed"
PLOTS = ("pr_curve", "loss", "years", "calibration")


def _draw_plots(
    facts: CardFacts,
    card_path: Path,
    plot_paths: Mapping[str, str | Path],
    predictions_path: str | Path | None,
) -> dict[str, str]:
    """Draw the loss curves (and PR curves when predictions exist); return links from the card.

    Raises:
        CardError: If ``plot_paths`` names a plot this card does not draw.
    """
    from arxivcat.report import plots

    unknown = sorted(set(plot_paths) - set(PLOTS))
    if unknown:
        raise CardError(f"unknown card plot(s) {', '.join(unknown)} (known: {', '.join(PLOTS)})")
    name = facts.experiment["name"]
    links = {}
    if "loss" in plot_paths:
        validation = [
            (int(e["step"]), float(e["eval_loss"])) for e in facts.run.epoch_evaluations()
        ]
        path = plot_paths["loss"]
        with writing(path):
            plots.plot_losses(facts.run.train_losses(), validation, f"{name}: loss", path)
        links["loss"] = path
    if "pr_curve" in plot_paths and predictions_path is not None:
        scored = split_scores(predictions_path, facts.experiment.get("head"))
        curves = {s: scored[s][1:] for s in ("validation", "test") if s in scored}
        path = plot_paths["pr_curve"]
        with writing(path):
            plots.plot_pr_curves(curves, f"{name}: precision-recall", path)
        links["pr_curve"] = path
    if facts.drift is not None and "years" in plot_paths:
        path = plot_paths["years"]
        with writing(path):
            plots.plot_years(facts.drift.years, f"{name}: F1 by year", path)
        links["years"] = path
    if facts.drift is not None and "calibration" in plot_paths:
        calibration = facts.drift.calibration
        curves = {"model": calibration["before"]["bins"]}
        if calibration.get("after"):
            curves["with temperature"] = calibration["after"]["bins"]
        path = plot_paths["calibration"]
        with writing(path):
            plots.plot_reliability(curves, f"{name}: reliability", path)
        links["calibration"] = path
    return {
        key: Path(os.path.relpath(path, card_path.parent)).as_posix() for key, path in links.items()
    }


#: A baseline's threshold report of each head (None for a binary model), and its predictions.
BaselineSide = tuple[Mapping[str | None, dict[str, Any] | None], str | Path | None]


def _differences(
    predictions_path: str | Path | None,
    ours: Mapping[str | None, dict[str, Any] | None],
    scorers: Mapping[str, BaselineSide],
) -> dict[str, dict[str | None, dict[str, Any]]]:
    """The model's test F1 minus each baseline's, head by head, where both thresholds are known.

    ``ours`` maps each head (None for a binary model) to the model's threshold report;
    ``scorers`` maps each baseline's name to its own and its predictions file.  The result maps
    a baseline's name to each head's difference
    (:func:`~arxivcat.report.paired.f1_differences_on_test`).
    """
    if predictions_path is None:
        return {}
    found = {}
    for name, (reports, path) in scorers.items():
        heads = [head for head, report in ours.items() if report and reports.get(head)]
        if path is None or not heads:
            continue
        paired = f1_differences_on_test(
            (Path(predictions_path), {head: ours[head] for head in heads}),
            (Path(path), {head: reports[head] for head in heads}),
        )
        found[name] = dict(zip(heads, paired, strict=True))
    return found


def save_card(text: str, output_path: str | Path) -> ModelCard:
    """Check ``text`` parses as a Hugging Face model card and write it atomically.

    Raises:
        CardError: If the text does not parse as a model card or still holds a placeholder.
        OutputError: If the card cannot be written (the message names it).
    """
    from arxivcat.io.atomic import write_text_atomic

    output_path = Path(output_path)
    if PLACEHOLDER in text:
        raise CardError(f"{output_path}: the card still says {PLACEHOLDER!r}")
    try:
        card = ModelCard(text)
    except ValueError as error:
        raise CardError(f"{output_path}: not a valid model card: {error}") from None
    with writing(output_path):
        write_text_atomic(output_path, text)
    logger.info("card written: %s", output_path)
    return card


def write_card(
    experiment: dict[str, Any],
    model_dir: str | Path,
    metrics_path: str | Path,
    split_report_path: str | Path | None,
    manifest_path: str | Path | None,
    output_path: str | Path,
    predictions_path: str | Path | None = None,
    baseline_path: str | Path | None = None,
    plot_paths: Mapping[str, str | Path] | None = None,
    threshold_path: str | Path | None = None,
    folder_name: str | None = None,
    head: str | None = None,
    table_paths: Mapping[str, str | Path] | None = None,
    probe_path: str | Path | None = None,
    baseline_predictions_path: str | Path | None = None,
    probe_predictions_path: str | Path | None = None,
) -> ModelCard:
    """Write the workflow's card of one experiment (or of one head of it), and its plots.

    Args:
        experiment: The experiment's facts (``Experiment.card_facts``).
        model_dir: The trained model directory (``trainer_state.json``, ``training_info.json``).
        metrics_path: The evaluate stage's ``metrics.json``.
        split_report_path: The experiment's ``split_report.json``.
        manifest_path: The corpus manifest.
        output_path: The card to write (``card.md``).
        predictions_path: The evaluate stage's predictions, for the PR curves.
        baseline_path: The TF-IDF baseline's ``metrics.json``.
        plot_paths: Where to draw the plots (``pr_curve``, ``loss``); the card links them.
        threshold_path: The experiment's ``threshold.json`` (rule ``choose_threshold``): with it
            the card gets its Hub parts (metadata, "How to use", the decision threshold).
        folder_name: How the "How to use" snippet names the model folder (default: the card's
            folder).
        head: One head of a multi-head experiment: its card, in the reference's format.
        table_paths: The experiment's ``test`` and ``heldout`` tables (each paper's year): with
            the predictions, the card gives F1 by year and calibration.
        probe_path: The frozen-encoder probe's ``metrics.json`` (rule ``train_probe``).
        baseline_predictions_path: The TF-IDF baseline's predictions: with the model's, the
            card gives the test F1 difference at own thresholds with its paired interval (a
            multi-head experiment's card, each head's).
        probe_predictions_path: The frozen-encoder probe's predictions, likewise.

    Returns:
        The parsed card.
    """
    output_path = Path(output_path)
    if experiment.get("heads") and head is None:
        return _write_multi_head_card(
            experiment, model_dir, metrics_path, split_report_path, manifest_path, output_path,
            predictions_path, baseline_path, plot_paths or {}, threshold_path, folder_name,
            table_paths, probe_path, baseline_predictions_path, probe_predictions_path,
        )  # fmt: skip
    facts = workflow_facts(
        experiment, model_dir, metrics_path, split_report_path, manifest_path, baseline_path,
        threshold_path, head, probe_path,
    )  # fmt: skip
    if predictions_path is not None and table_paths is not None:
        facts.drift = drift_facts(predictions_path, table_paths, facts.threshold, head)
    found = _differences(
        predictions_path,
        {head: facts.threshold},
        {
            "baseline": (
                {head: (facts.baseline or {}).get("threshold")},
                baseline_predictions_path,
            ),
            "probe": ({head: (facts.probe or {}).get("threshold")}, probe_predictions_path),
        },
    )
    facts.differences = {name: by_head[head] for name, by_head in found.items()}
    facts.plots = _draw_plots(facts, output_path, plot_paths or {}, predictions_path)
    text = render_card(facts)
    if facts.threshold is not None:
        text = _with_hub_parts(text, facts, head, folder_name or str(output_path.parent))
    return save_card(text, output_path)


def _with_hub_parts(text: str, facts: CardFacts, head: str | None, folder: str) -> str:
    """The card with its Hub parts: metadata, "How to use" and the decision threshold."""
    experiment = facts.experiment
    names = (
        (f"not {head}", head)
        if head is not None
        else class_names(list(experiment["labels"]), experiment["dataset_config"])
    )
    assert facts.threshold is not None
    return hub_card(text, folder, names, facts.threshold, facts.test)


def _write_multi_head_card(
    experiment: dict[str, Any],
    model_dir: str | Path,
    metrics_path: str | Path,
    split_report_path: str | Path | None,
    manifest_path: str | Path | None,
    output_path: Path,
    predictions_path: str | Path | None,
    baseline_path: str | Path | None,
    plot_paths: Mapping[str, str | Path],
    threshold_path: str | Path | None,
    folder_name: str | None,
    table_paths: Mapping[str, str | Path] | None,
    probe_path: str | Path | None,
    baseline_predictions_path: str | Path | None,
    probe_predictions_path: str | Path | None,
) -> ModelCard:
    """The card of a multi-head experiment (:mod:`arxivcat.report.multi_head_card`)."""
    from arxivcat.report.multi_head_card import (
        head_thresholds,
        multi_head_facts,
        render_multi_head_card,
    )

    if threshold_path is None or split_report_path is None:
        raise CardError(f"{output_path}: a multi-head card needs the thresholds and split report")
    facts, metrics, threshold, baseline = multi_head_facts(
        experiment, model_dir, metrics_path, split_report_path, manifest_path, baseline_path,
        threshold_path, probe_path,
    )  # fmt: skip
    if predictions_path is not None and table_paths is not None:
        facts.drift = drift_facts(predictions_path, table_paths, None)
    facts.plots = _draw_plots(facts, output_path, plot_paths, predictions_path)
    differences = _differences(
        predictions_path,
        threshold["heads"],
        {
            "baseline": (head_thresholds(baseline, metrics), baseline_predictions_path),
            "probe": (head_thresholds(facts.probe, metrics), probe_predictions_path),
        },
    )
    folder = folder_name or str(output_path.parent)
    text = render_multi_head_card(facts, metrics, threshold, baseline, folder, differences)
    return save_card(text, output_path)


def card_from_run_dir(
    run_dir: str | Path,
    experiment: dict[str, Any],
    output_path: str | Path,
    distributed_type: str | None = None,
    plot_paths: Mapping[str, str | Path] | None = None,
) -> ModelCard:
    """Write a card from a Trainer output directory made elsewhere.

    The final evaluation (model-index and the results under the title) comes from the run's
    ``metrics.json``, else ``all_results.json``/``eval_results.json``, else the last per-epoch
    evaluation of ``trainer_state.json`` (which the card and a warning then say); the "Training
    results" table from ``trainer_state.json``; the hyperparameters from the experiment's training
    settings and, when present, the run's ``training_info.json``.

    Args:
        run_dir: The Trainer output directory.
        experiment: The experiment's facts (as ``Experiment.card_facts`` gives them).
        output_path: The card to write.
        distributed_type: How training was distributed (e.g. "tpu"), when not recorded.
        plot_paths: Where to draw the plots (``loss``; ``pr_curve`` when the run directory holds
            ``predictions.parquet``), or None for no plots.

    Raises:
        RunDirError: If a run file is missing or malformed.
        CardError: If the run has no validation evaluation.
        OutputError: If an output cannot be written.
    """
    facts = run_dir_facts(run_dir, experiment, distributed_type)
    if facts.metrics_source:
        logger.warning("%s: %s", run_dir, facts.metrics_source)
    predictions = Path(run_dir) / "predictions.parquet"
    output_path = Path(output_path)
    facts.plots = _draw_plots(
        facts, output_path, plot_paths or {}, predictions if predictions.is_file() else None
    )
    return save_card(render_card(facts), output_path)
