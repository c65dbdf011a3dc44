"""What a model card states, gathered from a run's records before anything is rendered.

Two sources: the workflow's files (our model directory, the evaluate stage's ``metrics.json``, the
split report, the corpus manifest, the baseline), each passed by path, and a Trainer output
directory made elsewhere (the CLI), whose standard files say what they can.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arxivcat.errors import ArxivcatError
from arxivcat.report.drift import Drift
from arxivcat.report.trainer_run import TrainerRun, load_run, read_json

CARD_METRICS = ("accuracy", "f1", "precision", "recall")
# Where a run directory's final numbers came from when it holds no final evaluation.
FROM_TRAINER_STATE = (
    "metrics from the last per-epoch evaluation in trainer_state.json "
    "(no eval_results.json or all_results.json with eval_* values)"
)


class CardError(ArxivcatError, ValueError):
    """A card input that is missing or malformed, described in one line."""


@dataclass
class CardFacts:
    """Everything a card states.

    Attributes:
        experiment: The experiment (name, dataset_config, labels, split, split_settings,
            weak_negatives, training), as ``Experiment.card_facts`` gives it.
        run: The Trainer output directory's records.
        validation: Final validation metrics (loss, accuracy, f1, precision, recall, ...).
        test: Final test metrics, when the run was evaluated on test.
        validation_without_weak_negatives: Validation metrics without weak negatives, if any.
        split_report: The experiment's ``split_report.json``, when known.
        manifest: The corpus manifest, when known.
        baseline: The TF-IDF baseline's metrics, when computed.
        probe: The frozen-encoder probe's metrics (rule ``train_probe``), when computed.
        threshold: The model's threshold chosen on validation (``threshold.json``), when chosen.
        drift: F1 by year and calibration (:mod:`arxivcat.report.drift`), when computed.
        differences: The fine-tuned model's test F1 minus each baseline's (``baseline``,
            ``probe``), each at its own threshold, with the paired interval
            (:func:`~arxivcat.report.paired.f1_difference_on_test`), where both were scored.
        distributed_type: How training was distributed, when the run does not record it.
        metrics_source: Where the validation metrics came from, when not from a final
            evaluation (the card says so under them).
        plots: Plot titles to paths relative to the card.
    """

    experiment: dict[str, Any]
    run: TrainerRun
    validation: dict[str, Any]
    test: dict[str, Any] | None = None
    validation_without_weak_negatives: dict[str, Any] | None = None
    split_report: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    probe: dict[str, Any] | None = None
    threshold: dict[str, Any] | None = None
    drift: Drift | None = None
    differences: dict[str, dict[str, Any]] = field(default_factory=dict)
    distributed_type: str | None = None
    metrics_source: str | None = None
    plots: dict[str, str] = field(default_factory=dict)

    @property
    def info(self) -> dict[str, Any]:
        """Our ``training_info.json`` (empty for runs made elsewhere)."""
        return self.run.training_info or {}

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The training settings: the experiment's, overridden by what the run recorded."""
        return {**self.experiment.get("training", {}), **self.info.get("hyperparameters", {})}

    @property
    def base_model(self) -> str | None:
        """The fine-tuned base model's reference (Hub id, builtin name or path)."""
        return self.hyperparameters.get("model") or self.run.base_model


def _optional_json(path: str | Path | None) -> dict[str, Any] | None:
    return read_json(path) if path else None


def workflow_facts(
    experiment: dict[str, Any],
    model_dir: str | Path,
    metrics_path: str | Path,
    split_report_path: str | Path | None = None,
    manifest_path: str | Path | None = None,
    baseline_path: str | Path | None = None,
    threshold_path: str | Path | None = None,
    head: str | None = None,
    probe_path: str | Path | None = None,
) -> CardFacts:
    """The facts of one workflow experiment, from the files its card rule declares as inputs.

    With ``head``, the facts of one head of a multi-head experiment, in the binary layout: its
    metrics, threshold, baseline, probe and positives, and the experiment named ``<name>-<head>``
    with the head as its dataset config.

    Raises:
        RunDirError: If a file is missing or malformed (the message names it).
        CardError: If ``metrics_path`` holds no validation metrics, or ``head`` is not a head.
    """
    metrics = read_json(metrics_path)
    assert metrics is not None
    report = _optional_json(split_report_path)
    baseline, threshold = _optional_json(baseline_path), _optional_json(threshold_path)
    probe = _optional_json(probe_path)
    if head is not None:
        if head not in metrics.get("heads", {}):
            known = ", ".join(metrics.get("heads", {})) or "none: not a multi-head experiment"
            raise CardError(f"{metrics_path}: no head {head!r} (heads: {known})")
        experiment = head_experiment(experiment, head, report)
        metrics, report = metrics["heads"][head], head_report(report, head)
        baseline, probe = head_record(baseline, head), head_record(probe, head)
        threshold = threshold["heads"][head] if threshold else None
    if "validation" not in metrics:
        raise CardError(f"{metrics_path}: no validation metrics")
    return CardFacts(
        experiment=experiment,
        run=load_run(model_dir),
        validation=metrics["validation"],
        test=metrics.get("test"),
        validation_without_weak_negatives=metrics.get("validation_without_weak_negatives"),
        split_report=report,
        manifest=_optional_json(manifest_path),
        baseline=baseline,
        probe=probe,
        threshold=threshold,
    )


def head_record(record: dict[str, Any] | None, head: str) -> dict[str, Any] | None:
    """One head's part of a multi-head scorer's record, beside what all heads share.

    The shared part (encoder, settings, the embedding pass) stays; the head's own fit, metrics
    and threshold replace the totals.
    """
    if record is None or "heads" not in record:
        return record
    shared = {key: value for key, value in record.items() if key != "heads"}
    return {**shared, **record["heads"][head]}


def head_experiment(
    experiment: dict[str, Any], head: str, report: dict[str, Any] | None
) -> dict[str, Any]:
    """The experiment's facts as one head's card states them."""
    heads = {h["name"]: h for h in (report or {}).get("heads", [])}
    configured = experiment.get("heads")
    labels = heads.get(head, {}).get("labels") or (
        configured[head] if isinstance(configured, dict) else [head]
    )
    return {
        **experiment,
        "name": f"{experiment['name']}-{head}",
        "dataset_config": head,
        "labels": list(labels),
        "head": head,
        "model_heads": list(heads) or list(configured or []),
        "multi_head_experiment": experiment["name"],
    }


def head_report(report: dict[str, Any] | None, head: str) -> dict[str, Any] | None:
    """A multi-head split report as one head's: its positives and positive rates per split."""
    if report is None:
        return None
    entry = {h["name"]: h for h in report.get("heads", [])}.get(head)
    if entry is None:
        return report
    counts = entry["splits"]
    splits = {
        split: {**stats, **counts.get(split, {})} for split, stats in report["splits"].items()
    }
    return {**report, "splits": splits, "corpus_positive_rate": entry.get("corpus_positive_rate")}


def run_dir_facts(
    run_dir: str | Path, experiment: dict[str, Any], distributed_type: str | None = None
) -> CardFacts:
    """The facts of a Trainer output directory made elsewhere.

    The final evaluation comes from a ``metrics.json`` in the directory, else the ``eval_*``
    values of ``all_results.json``/``eval_results.json``, else (said in ``metrics_source``) the
    last evaluation logged in ``trainer_state.json``.  A ``split_report.json``,
    ``manifest.json`` or ``baseline.json`` in the directory is used when present.

    Raises:
        RunDirError: If a run file is missing or malformed.
        CardError: If the run has no evaluation at all.
    """
    run = load_run(run_dir)
    run_dir = Path(run_dir)
    metrics = read_json(run_dir / "metrics.json", required=False) or {}
    validation = metrics.get("validation") or run.final_evaluation()
    if validation is None:
        raise CardError(
            f"{run_dir}: no final evaluation (no eval_* in all_results.json/eval_results.json "
            "and no evaluation in trainer_state.json)"
        )
    source = None
    if not metrics.get("validation") and "eval_loss" not in run.results:
        source = FROM_TRAINER_STATE
    if "samples" not in validation and "eval_samples" in run.results:
        validation = {**validation, "samples": run.results["eval_samples"]}
    return CardFacts(
        experiment=experiment,
        run=run,
        validation=validation,
        test=metrics.get("test"),
        validation_without_weak_negatives=metrics.get("validation_without_weak_negatives"),
        split_report=read_json(run_dir / "split_report.json", required=False),
        manifest=read_json(run_dir / "manifest.json", required=False),
        baseline=read_json(run_dir / "baseline.json", required=False),
        distributed_type=distributed_type,
        metrics_source=source,
    )
