"""The card's comparison of the fine-tuned model with its baselines, like with like.

Every scorer on the card (the fine-tuned model, the frozen-encoder probe and the TF-IDF baseline)
is shown at 0.5 and at its own threshold chosen to maximise validation F1, with the compute it
took: a baseline labelled at 0.5 on a rare category loses by construction and says nothing about
what the fine-tune bought.  The probe is the question the card answers: SPECTER was made to be
used frozen, with a linear model on its embeddings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arxivcat.report.card_facts import CardFacts
from arxivcat.report.choose_threshold import f1_at_threshold
from arxivcat.report.paired import difference_text, interval_text


@dataclass(frozen=True)
class Scorer:
    """One row of the comparison.

    Attributes:
        name: What the row calls the scorer.
        validation: Validation metrics at 0.5 (``f1`` is read).
        test: Test metrics at 0.5, when measured.
        threshold: Its threshold report (``threshold_report``), when one was chosen.
        compute: The compute it took, in words.
        difference: The fine-tuned model's test F1 minus this scorer's, each at its own
            threshold, with the paired interval (``CardFacts.differences``), when computed.
    """

    name: str
    validation: dict[str, Any]
    test: dict[str, Any] | None
    threshold: dict[str, Any] | None
    compute: str
    difference: dict[str, Any] | None = None


#: What the paired column means, said once above the table.
PAIRED = (
    " The difference column resamples the test papers that both scored (a paired bootstrap): an "
    "interval that straddles 0 is no evidence that the fine-tuned model is better or worse; it "
    "covers which papers were tested, not the randomness of training."
)


def duration(seconds: float | None) -> str:
    """A run time in words: ``85 s``, ``12.5 min``, ``3.20 h``, or ``unknown``."""
    if seconds is None:
        return "unknown"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _f1(metrics: dict[str, Any] | None) -> str:
    return "n/a" if not metrics or metrics.get("f1") is None else f"{metrics['f1']:.4f}"


def _threshold(chosen: dict[str, Any]) -> str:
    if not chosen:
        return "not chosen"
    if chosen.get("signal") is False:
        return "0.5 (no signal: none chosen)"
    return f"{chosen['threshold']:.4f}"


def _row(scorer: Scorer, paired: bool) -> str:
    chosen = scorer.threshold or {}
    cells = [
        scorer.name,
        _f1(scorer.validation),
        _f1(scorer.test),
        _threshold(chosen),
        _f1(chosen.get("validation", {}).get("at_threshold")),
        f"**{_f1(chosen.get('test', {}).get('at_threshold'))}**" if chosen else "n/a",
    ]
    if paired:
        cells.append(difference_text(scorer.difference) if scorer.difference else "")
    return "| " + " | ".join([*cells, scorer.compute]) + " |"


def _probe_scorer(probe: dict[str, Any], difference: dict[str, Any] | None) -> Scorer:
    """The frozen-encoder probe's row: its fits and its share of the split's embedding pass."""
    pooling = (probe.get("encoder") or {}).get("pooling") or {}
    share = probe.get("embedding") or {}
    fit, embedding = probe.get("fit_seconds"), share.get("seconds")
    total = None if fit is None or embedding is None else fit + embedding
    compute = (
        f"{duration(total)}: {duration(fit)} fit, {duration(embedding)} its share of the "
        f"embedding pass ({share.get('rows', 0):,} of {share.get('of', 0):,} papers embedded in "
        f"{duration(share.get('pass_seconds'))} on {share.get('placement') or 'unknown'})"
    )
    return Scorer(
        f"frozen base encoder ({pooling.get('description', 'pooling unknown')}) + logistic "
        "regression, class-weighted",
        probe["validation"],
        probe.get("test"),
        probe.get("threshold"),
        compute,
        difference,
    )


def scorers(facts: CardFacts) -> list[Scorer]:
    """The fine-tuned model and each baseline the run computed, in the comparison's order."""
    info = facts.info
    device = info.get("device")
    runtime = info.get("train_runtime") or facts.run.results.get("train_runtime")
    rows = [
        Scorer(
            "this model (fine-tuned)",
            facts.validation,
            facts.test,
            facts.threshold,
            f"{duration(runtime)} training" + (f" on {device}" if device else ""),
        )
    ]
    if facts.probe and facts.probe.get("validation"):
        rows.append(_probe_scorer(facts.probe, facts.differences.get("probe")))
    baseline = facts.baseline
    if baseline and baseline.get("validation"):
        weighted = (baseline.get("settings") or {}).get("class_weight") == "balanced"
        rows.append(
            Scorer(
                "TF-IDF + logistic regression" + (", class-weighted" if weighted else ""),
                baseline["validation"],
                baseline.get("test"),
                baseline.get("threshold"),
                f"{duration(baseline.get('train_seconds'))} fit on one CPU core",
                facts.differences.get("baseline"),
            )
        )
    return rows


def _probe_words(facts: CardFacts) -> str:
    """What the probe is, and what the fine-tune bought over it (empty without a probe)."""
    probe = facts.probe
    if not probe or not probe.get("validation"):
        return ""
    encoder = probe.get("encoder") or {}
    pooling = encoder.get("pooling") or {}
    grid = ", ".join(f"{c:g}" for c in (probe.get("settings") or {}).get("c_grid", []))
    words = (
        f" The frozen probe is the base model before fine-tuning (`{encoder.get('model')}`, "
        f"{encoder.get('max_length')} tokens, {pooling.get('description', 'pooling unknown')}, "
        f"from {pooling.get('source', 'an unknown source')}) with a logistic regression on its "
        f"standardized embeddings, its regularisation C ({probe.get('C', 0):g}, from the grid "
        f"{grid}) and threshold chosen on validation, as SPECTER's authors classify papers; its "
        "compute is its fits and its share of the split's one embedding pass, which every "
        "experiment on the split with that encoder reads."
    )
    ours, theirs = f1_at_threshold(facts.threshold), f1_at_threshold(probe.get("threshold"))
    runtime = facts.info.get("train_runtime") or facts.run.results.get("train_runtime")
    cost = (probe.get("fit_seconds") or 0) + ((probe.get("embedding") or {}).get("seconds") or 0)
    paired = facts.differences.get("probe")
    if ours is not None and theirs is not None:
        words += (
            f" Fine-tuning changed the test F1 by {ours - theirs:+.4f} against the frozen probe "
            "(each at its own threshold"
            + (f"; 95% paired interval {interval_text(paired)}" if paired else "")
            + ")"
        )
        if runtime and cost:
            words += f", at {runtime / cost:,.1f} times the probe's run time"
        words += "."
    return words


def section_comparison(facts: CardFacts) -> str:
    """The comparison table, or a sentence saying no baseline was computed."""
    rows = scorers(facts)
    if len(rows) == 1:
        return "No baseline was computed for this run."
    paired = bool(facts.differences)
    header = (
        "| Scorer | Validation F1 at 0.5 | Test F1 at 0.5 | Own threshold | Validation F1 at it "
        "| Test F1 at it |"
        + (" This model minus it, test F1 at own thresholds [95% interval] |" if paired else "")
        + " Compute |"
    )
    table = "\n".join(
        [
            header,
            "|:-------|" + "-----:|" * (6 if paired else 5) + ":-----|",
            *(_row(row, paired) for row in rows),
        ]
    )
    return (
        "Each scorer is trained on the same training split and shown at 0.5 and at its own "
        "threshold, the one that maximises its F1 on the validation split (the test split is "
        "never used to choose): the test F1 at its own threshold (bold) compares like with like. "
        "The TF-IDF baseline uses word unigrams and bigrams; class-weighted means its classes are "
        "weighted inversely to their frequency, as a rare category needs."
        + (PAIRED if paired else "")
        + _probe_words(facts)
        + "\n\n"
        + table
    )
