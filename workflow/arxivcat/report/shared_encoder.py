"""What sharing the encoder costs and saves: each head beside the binary model of its question.

A head of a multi-head experiment and a binary experiment ask the same question when their
category sets, label mode and split definition are the same; where several binary experiments
do, the one trained on the same data (weak-negative share, training sample) is preferred, and the
table shows both weak-negative shares.  For each pair the summary shows validation and test F1 of
both at 0.5 and, the comparison that counts, each at its own threshold chosen on validation (a
head trained with ``pos_weight`` scores positives higher, so 0.5 is not its operating point); the
test difference at those thresholds comes with a paired bootstrap interval over the test papers
both were scored on (:mod:`arxivcat.report.paired`), so that a difference within the test set's
noise does not read as a cost or a gain (training's own noise, another seed, is not in it; the
table says so).  The training each took: samples processed (training rows times epochs) and
hours.  The family's line adds up the binary models a multi-head model stands in for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arxivcat.report.choose_threshold import f1_at_threshold
from arxivcat.report.paired import difference_text, f1_difference_on_test
from arxivcat.report.trainer_run import read_json


def _question(report: dict[str, Any], labels: Sequence[str]) -> tuple[Any, ...]:
    """What makes two classifiers answer the same question on the same split."""
    return (
        frozenset(labels),
        report.get("label_mode", "any"),
        report.get("split"),
        repr(sorted((report.get("split_settings") or {}).items())),
    )


def _data(report: dict[str, Any]) -> tuple[Any, ...]:
    """The training data's choices beyond the split: weak-negative share and training sample."""
    return report.get("weak_negative_share", 0.0), report.get("sample_pct", 100)


def _training(info: dict[str, Any]) -> dict[str, Any]:
    epochs = float((info.get("hyperparameters") or {}).get("num_epochs") or 0)
    rows = info.get("train_samples")
    runtime = info.get("train_runtime")
    return {
        "samples": round(rows * epochs) if rows is not None else None,
        "hours": runtime / 3600 if runtime is not None else None,
    }


def _interval(
    multi: Any, head: str, ours: dict[str, Any], twin: Any, theirs: dict[str, Any]
) -> dict[str, Any] | None:
    """The paired interval of the head's test F1 minus its twin's, at their own thresholds."""
    if multi.predictions is None or twin.predictions is None or not ours or not theirs:
        return None
    return f1_difference_on_test((multi.predictions, ours, head), (twin.predictions, theirs, None))


def comparison_rows(experiments: Sequence[Any]) -> list[dict[str, Any]]:
    """One row per head that has a binary twin: both models' F1 and training.

    Args:
        experiments: :class:`~arxivcat.report.summarize.ExperimentResults` of every experiment.
    """
    binary: dict[tuple[Any, ...], list[tuple[Any, dict[str, Any]]]] = {}
    multi = []
    for results in experiments:
        report = read_json(results.split_report) or {}
        if "heads" in report:
            multi.append((results, report))
        else:
            key = _question(report, report.get("labels", []))
            binary.setdefault(key, []).append((results, report))
    rows = []
    for results, report in multi:
        metrics = read_json(results.metrics) or {}
        chosen = (read_json(results.threshold) if results.threshold else None) or {}
        training = _training(read_json(results.model_dir / "training_info.json") or {})
        for head in report["heads"]:
            candidates = binary.get(_question(report, head["labels"]), [])
            if not candidates:
                continue
            twin, twin_report = max(candidates, key=lambda c: _data(c[1]) == _data(report))
            ours, theirs = metrics["heads"][head["name"]], read_json(twin.metrics) or {}
            ours_t = chosen.get("heads", {}).get(head["name"], {})
            theirs_t = (read_json(twin.threshold) if twin.threshold else None) or {}
            rows.append(
                {
                    "experiment": results.name,
                    "head": head["name"],
                    "binary": twin.name,
                    "test_f1": (ours["test"]["f1"], theirs["test"]["f1"]),
                    "validation_f1_at_threshold": (
                        f1_at_threshold(ours_t, "validation"),
                        f1_at_threshold(theirs_t, "validation"),
                    ),
                    "test_f1_at_threshold": (f1_at_threshold(ours_t), f1_at_threshold(theirs_t)),
                    "interval": _interval(results, head["name"], ours_t, twin, theirs_t),
                    "weak_negatives": (_data(report)[0], _data(twin_report)[0]),
                    "training": (
                        training,
                        _training(read_json(twin.model_dir / "training_info.json") or {}),
                    ),
                }
            )
    return rows


def _pair(values: tuple[Any, Any], fmt: str) -> str:
    return " / ".join("n/a" if v is None else format(v, fmt) for v in values)


def _difference(row: dict[str, Any]) -> str:
    """The test F1 difference at own thresholds, with its interval where predictions were read."""
    interval = row["interval"]
    if interval is None:
        ours, theirs = row["test_f1_at_threshold"]
        return "n/a" if ours is None or theirs is None else f"{ours - theirs:+.4f}"
    return difference_text(interval)


def markdown(rows: Sequence[dict[str, Any]]) -> str:
    """The comparison as a Markdown section (empty when no head has a binary twin)."""
    if not rows:
        return ""
    lines = [
        "## One encoder for many questions, against one model per question",
        "",
        "Each head of a multi-head experiment beside the binary experiment that asks its "
        "question (same categories, label mode and split; the one with the same weak negatives "
        "where there is a choice): F1 at 0.5 and at each one's own threshold chosen on "
        "validation, the test difference at those thresholds with its 95% paired bootstrap "
        "interval over the test papers (an interval that straddles 0 is no evidence of a cost "
        "or a gain; it covers which papers were tested, not the randomness of training, so a "
        "model trained with another seed can differ by more), and the training each took "
        "(samples processed = training rows x epochs).  "
        "A multi-head model is trained once for all its heads.",
        "",
        "| Multi-head experiment | Head | Binary experiment | Weak negatives (multi-head / binary) "
        "| Test F1 at 0.5 (head / binary) | Validation F1 at own threshold (head / binary) "
        "| Test F1 at own threshold (head / binary) | Test F1 difference at own thresholds "
        "[95% interval] | Samples processed (multi-head / binary) "
        "| Training hours (multi-head / binary) |",
        "|:---|:---|:---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        multi, single = row["training"]
        lines.append(
            f"| {row['experiment']} | {row['head']} | {row['binary']} | "
            f"{_pair(row['weak_negatives'], '.0%')} | {_pair(row['test_f1'], '.4f')} | "
            f"{_pair(row['validation_f1_at_threshold'], '.4f')} | "
            f"{_pair(row['test_f1_at_threshold'], '.4f')} | {_difference(row)} | "
            f"{_pair((multi['samples'], single['samples']), ',')} | "
            f"{_pair((multi['hours'], single['hours']), '.3f')} |"
        )
    for experiment in dict.fromkeys(row["experiment"] for row in rows):
        family = [row for row in rows if row["experiment"] == experiment]
        multi = family[0]["training"][0]
        singles = [row["training"][1] for row in family]
        samples = sum(s["samples"] or 0 for s in singles)
        hours = sum(s["hours"] or 0 for s in singles)
        lines += [
            "",
            f"{experiment} answers {len(family)} binary experiments' questions with one model: "
            f"{multi['samples'] or 0:,} samples processed against {samples:,} for the "
            f"{len(family)} binary models ({_share(multi['samples'], samples)}), "
            f"{multi['hours'] or 0:.3f} training hours against {hours:.3f} "
            f"({_share(multi['hours'], hours)}).",
        ]
    return "\n".join(lines) + "\n"


def _share(part: float | None, whole: float) -> str:
    return "n/a" if not part or not whole else f"{part / whole:.0%} of their compute"
