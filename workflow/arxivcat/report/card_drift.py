"""The card's sections on later papers, other shares of positives and calibration.

A card's test split is a random share of the same years the model trained on; the models are used
on the papers that come next and on corpora with another share of positives.  These sections say
how the numbers hold there: the held-out newest papers and F1 by year, precision and F1 at other
shares, and how far the probabilities are from frequencies.
"""

from __future__ import annotations

from typing import Any

from arxivcat.report.card_comparison import scorers
from arxivcat.report.card_facts import CardFacts
from arxivcat.report.drift import prevalence_rows

#: Years with fewer positives than this are marked: their F1 moves a lot with a paper or two.
FEW_POSITIVES = 20
_NOT_RECORDED = "Not recorded for this run (the workflow's evaluation records it)."


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _heldout_sentence(facts: CardFacts) -> str:
    held = (facts.split_report or {}).get("heldout") or {}
    if not held.get("papers"):
        split = facts.experiment.get("split", "")
        return (
            "No papers were held out: every paper of the split definition's years is in train, "
            f"validation or test (`splits.{split}.holdout` holds out the newest)."
        )
    rows = []
    for scorer in scorers(facts):
        chosen = (scorer.threshold or {}).get("heldout")
        if chosen:
            rows.append(
                f"| {scorer.name} | {_f(chosen['at_0.5']['f1'])} | "
                f"{_f(chosen['at_threshold']['f1'])} |"
            )
    table = "\n".join(["| Scorer | F1 at 0.5 | F1 at its own threshold |", "|:---|---:|---:|",
                       *rows])  # fmt: skip
    return (
        f"The split definition held out its newest papers, first submitted on or after "
        f"{held['from']} ({held['papers']:,} papers, {held['first_submitted']} to "
        f"{held['last_submitted']}): no model, baseline or threshold saw them.  On them:\n\n"
        + table
    )


def section_years(facts: CardFacts) -> str:
    """The held-out newest papers, and the model's F1 by year of first submission."""
    if facts.drift is None:
        return _NOT_RECORDED
    out = [_heldout_sentence(facts)]
    lines = [
        "| Split | Year | Papers | Positives | F1 | Precision | Recall |",
        "|:---|---:|---:|---:|---:|---:|---:|",
    ]
    for split, rows in facts.drift.years.items():
        for row in rows:
            mark = " *" if row["positives"] < FEW_POSITIVES else ""
            lines.append(
                f"| {split} | {row['year']} | {row['papers']:,} | {row['positives']:,}{mark} | "
                f"{_f(row['f1'])} | {_f(row['precision'])} | {_f(row['recall'])} |"
            )
    out.append(
        "This model's F1 by year of first submission, at its own threshold (* fewer than "
        f"{FEW_POSITIVES} positives: read with care):\n\n" + "\n".join(lines)
    )
    if "years" in facts.plots:
        out.append(f"![F1 by year]({facts.plots['years']})")
    return "\n\n".join(out)


def section_prevalence(facts: CardFacts) -> str:
    """Precision and F1 at the validation split's, the corpus's and the deployments' shares."""
    report = facts.split_report or {}
    validation = ((report.get("splits") or {}).get("validation") or {}).get("positive_rate")
    shares: dict[str, Any] = {"validation split": validation,
                              "corpus, all years": report.get("corpus_positive_rate")}  # fmt: skip
    for share in facts.experiment.get("deployment_prevalence") or []:
        shares[f"deployment ({100 * share:g}%)"] = share
    named = {scorer.name: scorer.threshold for scorer in scorers(facts)}
    rows = prevalence_rows(shares, named)
    if not rows or len(rows[0]) == 2:
        return _NOT_RECORDED
    present = [name for name in named if name in rows[0]]
    header = "| Share of positives | " + " | ".join(
        f"{name}: precision | {name}: F1" for name in present
    )
    lines = [header + " |", "|:---|" + "---:|" * (2 * len(present))]
    for row in rows:
        cells = [f"{row[n]['precision']:.4f} | {row[n]['f1']:.4f}" for n in present]
        lines.append(
            f"| {row['name']}: {100 * row['prevalence']:.2f}% | " + " | ".join(cells) + " |"
        )
    return (
        "Precision depends on how many positives a corpus holds; recall and the false-positive "
        "rate do not.  From each scorer's validation true- and false-positive rates at its own "
        "threshold, its precision and F1 at other shares of positives (recall stays as on "
        "validation):\n\n" + "\n".join(lines)
    )


def section_calibration(facts: CardFacts) -> str:
    """The expected calibration error on validation, the temperature if any, the plot."""
    if facts.drift is None:
        return _NOT_RECORDED
    calibration = facts.drift.calibration
    text = (
        "Expected calibration error on validation (15 bins of probability, each bin's mean "
        f"probability against its share of positives): {calibration['before']['ece']:.4f}."
    )
    if calibration.get("temperature"):
        text += (
            f"  A temperature of {calibration['temperature']:.3f}, fitted on validation, divides "
            f"the logits (`calibration: temperature`): the error becomes "
            f"{calibration['after']['ece']:.4f}; the thresholds above are chosen on these "
            "probabilities, and `arxivcat predict` applies the same temperature."
        )
    else:
        text += (
            "  The probabilities are the model's own; `calibration: temperature` fits one "
            "temperature on validation where they are far off."
        )
    if "calibration" in facts.plots:
        text += f"\n\n![Reliability on validation]({facts.plots['calibration']})"
    return text
