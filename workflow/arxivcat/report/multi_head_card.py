"""The card of a multi-head experiment: one model, every head's numbers, the pooled ones.

Each head also gets a card of its own in the reference's format (``write_card(head=...)``); this
one is the model's, and the README of its Hub-ready folder: a model-index result per head
(validation and test), a table of every head (support, F1 at 0.5 and at its own threshold, the
baseline), the pooled numbers, how the model was trained, and how to use it.  A table, not a plot
per head, so that a 150-head card stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from arxivcat.report.card_comparison import PAIRED, duration
from arxivcat.report.card_facts import CardFacts, workflow_facts
from arxivcat.report.card_render import GENERATED, eval_results, front_matter, title_block
from arxivcat.report.card_sections import base_model_phrase, section_data
from arxivcat.report.card_training import (
    section_epochs,
    section_hardware,
    section_hyperparameters,
    section_training_results,
    section_versions,
)
from arxivcat.report.hub_card import hub_metadata
from arxivcat.report.paired import difference_text
from arxivcat.report.trainer_run import read_json

#: The paired difference columns of the heads table: the scorer's key and how the table names it.
PAIRED_COLUMNS = (("probe", "the frozen probe"), ("baseline", "TF-IDF"))


def _f1(metrics: dict[str, Any] | None, key: str = "f1") -> str:
    return "n/a" if not metrics or metrics.get(key) is None else f"{metrics[key]:.4f}"


def head_thresholds(
    scorer: dict[str, Any] | None, metrics: dict[str, Any]
) -> dict[str | None, dict[str, Any]]:
    """A baseline's threshold report of each head (empty where it has none)."""
    heads = (scorer or {}).get("heads") or {}
    return {head: (heads.get(head) or {}).get("threshold") or {} for head in metrics["heads"]}


def heads_table(
    metrics: dict[str, Any],
    threshold: dict[str, Any],
    baseline: dict[str, Any] | None,
    report: dict[str, Any],
    probe: dict[str, Any] | None = None,
    differences: Mapping[str, Mapping[str, dict[str, Any]]] | None = None,
) -> str:
    """One row per head: categories, support, F1 at 0.5 and at its threshold, the baselines'.

    ``differences`` maps ``probe`` and ``baseline`` to each head's test F1 minus theirs with its
    paired interval (:func:`~arxivcat.report.paired.f1_differences_on_test`): a column each.
    """
    labels = {h["name"]: h["labels"] for h in report.get("heads", [])}
    paired = [(key, name) for key, name in PAIRED_COLUMNS if (differences or {}).get(key)]
    chosen_by = [head_thresholds(scorer, metrics) for scorer in (baseline, probe)]
    rows = [
        "| Head | Categories | Validation positives | Test positives | Validation F1 | Test F1 "
        "| Own threshold | Test F1 at it | Frozen probe test F1 at its own threshold "
        "| TF-IDF test F1 at its own threshold |"
        + "".join(
            f" This model minus {name}, test F1 at own thresholds [95% interval] |"
            for _, name in paired
        ),
        "|:-----|:-----|" + "-----:|" * (8 + len(paired)),
    ]
    for head, record in metrics["heads"].items():
        chosen = threshold["heads"][head]
        tfidf, frozen = (thresholds[head] for thresholds in chosen_by)
        found = [(differences or {})[key].get(head) for key, _ in paired]
        rows.append(
            f"| {head} | {', '.join(labels.get(head, []))} | "
            f"{record['validation']['positives']:,} | {record['test']['positives']:,} | "
            f"{_f1(record['validation'])} | {_f1(record['test'])} | {chosen['threshold']:.4f} | "
            f"{_f1(chosen['test']['at_threshold'])} | "
            f"{_f1(frozen.get('test', {}).get('at_threshold'))} | "
            f"{_f1(tfidf.get('test', {}).get('at_threshold'))} |"
            + "".join(f" {difference_text(d) if d else 'n/a'} |" for d in found)
        )
    return "\n".join(rows)


def probe_sentence(facts: CardFacts) -> str:
    """What the frozen probe column is and what it cost (empty without a probe)."""
    probe = facts.probe
    if not probe:
        return ""
    pooling = (probe.get("encoder") or {}).get("pooling") or {}
    share = probe.get("embedding") or {}
    runtime = facts.info.get("train_runtime")
    return (
        f"  The frozen probe is the base model before fine-tuning ({pooling.get('description')}) "
        "with a class-weighted logistic regression per head on its embeddings, C and threshold "
        f"chosen on validation: {duration(probe.get('fit_seconds'))} of fits for every head and "
        f"{duration(share.get('seconds'))} as its share of the split's embedding pass, against "
        f"{duration(runtime)} of fine-tuning."
    )


def pooled_table(threshold: dict[str, Any]) -> str:
    """Micro- and macro-averaged numbers, every head at 0.5 and at its own threshold."""
    rows = [
        "| Split and thresholds | Micro F1 | Micro precision | Micro recall | Macro F1 |",
        "|:-----|-----:|-----:|-----:|-----:|",
    ]
    for split, record in threshold["pooled"].items():
        for key, name in (("at_0.5", "0.5"), ("at_threshold", "each head's own")):
            m = record[key]
            rows.append(
                f"| {split}, {name} | {_f1(m)} | {_f1(m, 'precision')} | {_f1(m, 'recall')} | "
                f"{_f1(m, 'macro_f1')} |"
            )
    return "\n".join(rows)


def _later_papers(facts: CardFacts, threshold: dict[str, Any]) -> str:
    """The held-out newest papers (pooled, at each head's own threshold), years, calibration."""
    held = (facts.split_report or {}).get("heldout") or {}
    parts = ["### Newer papers, years and calibration"]
    if held.get("papers") and "heldout" in threshold["pooled"]:
        m = threshold["pooled"]["heldout"]["at_threshold"]
        parts.append(
            f"The split definition held out its newest papers, first submitted on or after "
            f"{held['from']} ({held['papers']:,} papers): at each head's own threshold, micro F1 "
            f"{_f1(m)} and macro F1 {_f1(m, 'macro_f1')} on them.  Each head's card gives its "
            "own numbers on them, by year, and at other shares of positives."
        )
    else:
        parts.append("No papers were held out; each head's card gives its F1 by year.")
    if facts.drift is not None:
        parts.append(
            "Pooled over every paper and head, at 0.5: F1 by year of first submission, and "
            "reliability on validation (expected calibration error "
            f"{facts.drift.calibration['before']['ece']:.4f})."
        )
        parts += [f"![{key}]({facts.plots[key]})" for key in ("years", "calibration")
                  if key in facts.plots]  # fmt: skip
    return "\n\n".join(parts)


def how_to_use(folder: str, first_head: str) -> str:
    """The "How to use" section: every head's sigmoid score from a plain pipeline."""
    return f"""## How to use

The classifier reads a paper as the pair (title, abstract), truncated from the abstract to the
token budget of training; pass `truncation="only_second"` once, when building the pipeline.  With
`top_k=None` the pipeline gives every head's sigmoid probability; each head's threshold, chosen
on validation, is in `arxivcat.json`.

```python
import json
from pathlib import Path

from transformers import pipeline

folder = {folder!r}
classifier = pipeline("text-classification", model=folder, truncation="only_second")
paper = {{
    "text": "Fast object detection with region proposal networks",
    "text_pair": "We present a detector that shares convolutional features with ...",
}}
scores = {{r["label"]: r["score"] for r in classifier(paper, top_k=None)}}
thresholds = json.loads(Path(folder, "arxivcat.json").read_text())["thresholds"]
print(scores[{first_head!r}], [head for head, score in scores.items() if score > thresholds[head]])
```

To score a whole file: `arxivcat predict --model {folder} --input papers.jsonl --output
scores.parquet` (a probability and a label per head).
"""


def render_multi_head_card(
    facts: CardFacts,
    metrics: dict[str, Any],
    threshold: dict[str, Any],
    baseline: dict[str, Any] | None,
    folder: str,
    differences: Mapping[str, Mapping[str, dict[str, Any]]] | None = None,
) -> str:
    """The experiment card's Markdown text (front matter included).

    ``differences``: each head's test F1 minus the probe's and the baseline's (:func:`heads_table`).
    """
    heads = list(metrics["heads"])
    results = []
    for head in heads:
        results += eval_results(head, metrics["heads"][head]["validation"])
        results += eval_results(head, metrics["heads"][head]["test"], "test")
    meta = hub_metadata(yaml.safe_load(front_matter(facts, results)), None)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    report = facts.split_report or {}
    dropped = report.get("dropped_heads") or []
    primary = facts.experiment.get("label_mode") == "primary"
    description = (
        f"One classifier with {len(heads)} heads (one sigmoid each) on one encoder, fine-tuned "
        f"from {base_model_phrase(facts.base_model)} for every head at once: each head answers "
        "the binary question its categories ask (a paper is positive for a head when "
        + ("its primary category is" if primary else "any of its categories is")
        + " in the head's set).  Weak negatives, where training added them, are negative for "
        "every head.  Each head has a card of its own in the reference's format."
    )
    if dropped:
        description += f"  Left out (a split held no positive of theirs): {', '.join(dropped)}."
    pooled = (
        f"These are pooled over every (paper, head) pair (micro averages); the mean of the heads' "
        f"F1 (macro) is {_f1(facts.validation, 'macro_f1')} on validation."
    )
    sections = [
        f"{title_block(facts)}\n\n{pooled}",
        f"## Model description\n\n{description}",
        f"## Training and evaluation data\n\n{section_data(facts)}",
        "## Evaluation results\n\nPooled over every (paper, head) pair (micro) and as the mean of "
        "the heads' F1 (macro), every head at 0.5 and at its own threshold chosen on "
        f"validation (the test split is never used to choose):\n\n{pooled_table(threshold)}"
        + (
            f"\n\n![Precision-recall curves, every paper and head]({facts.plots['pr_curve']})"
            if "pr_curve" in facts.plots
            else ""
        ),
        _later_papers(facts, threshold),
        "### Heads\n\nSupport is the number of positive papers; F1 at 0.5 unless marked.  The "
        "TF-IDF baseline is class-weighted and also at its own threshold chosen on validation."
        + probe_sentence(facts)
        + (PAIRED if any((differences or {}).values()) else "")
        + f"\n\n{heads_table(metrics, threshold, baseline, report, facts.probe, differences)}",
        "## Training procedure",
        f"### Training hyperparameters\n\n{section_hyperparameters(facts)}",
        f"### Training results\n\n{section_training_results(facts)}",
        f"### Best and last epoch\n\n{section_epochs(facts)}",
        f"### Hardware and throughput\n\n{section_hardware(facts)}",
        f"### Framework versions\n\n{section_versions(facts)}",
        how_to_use(folder, heads[0]).rstrip(),
    ]
    return f"---\n{front}---\n\n{GENERATED}\n\n" + "\n\n".join(sections) + "\n"


def multi_head_facts(
    experiment: dict[str, Any],
    model_dir: str | Path,
    metrics_path: str | Path,
    split_report_path: str | Path,
    manifest_path: str | Path | None,
    baseline_path: str | Path | None,
    threshold_path: str | Path,
    probe_path: str | Path | None = None,
) -> tuple[CardFacts, dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """The card's facts (the probe's record among them), and the records it tabulates.

    Returns:
        The facts, and the metrics, threshold and baseline records.
    """
    facts = workflow_facts(
        experiment, model_dir, metrics_path, split_report_path, manifest_path, probe_path=probe_path
    )
    metrics = read_json(metrics_path)
    threshold = read_json(threshold_path)
    baseline = read_json(baseline_path) if baseline_path else None
    assert metrics is not None and threshold is not None
    return facts, metrics, threshold, baseline
