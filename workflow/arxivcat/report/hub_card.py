"""What the workflow's card adds to the reference's card format, for the Hugging Face Hub.

The card in the reference format (what ``arxivcat card`` writes, pinned by the golden tests) gets,
in the workflow, the metadata the Hub reads (``pipeline_tag``, ``library_name``, ``language``,
test results beside validation in the model-index), a "How to use" section whose snippet runs as
written, and the decision threshold with test metrics at 0.5 and at the chosen threshold.  The
model folder's ``README.md`` is that card, copied as it is.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from typing import Any

import yaml

from arxivcat.errors import ArxivcatError
from arxivcat.report.card_facts import CARD_METRICS


class HubCardError(ArxivcatError, ValueError):
    """A card that cannot be given its Hub parts."""


def class_names(labels: list[str], dataset_config: str) -> tuple[str, str]:
    """The names of the negative and positive classes: ``not cs.CV`` / ``cs.CV``.

    Several labels are named after the experiment's data (``AI``), whose list the card gives.
    """
    positive = labels[0] if len(labels) == 1 else dataset_config
    return f"not {positive}", positive


def _split_front_matter(card: str) -> tuple[dict[str, Any], str]:
    if not card.startswith("---\n") or "\n---\n" not in card[4:]:
        raise HubCardError("the card has no YAML front matter")
    head, body = card[4:].split("\n---\n", 1)
    return yaml.safe_load(head) or {}, body


def hub_metadata(metadata: dict[str, Any], test: dict[str, Any] | None) -> dict[str, Any]:
    """The card's metadata with the Hub keys and the test split's results added."""
    out = dict(metadata)
    out["pipeline_tag"] = "text-classification"
    out["library_name"] = "transformers"
    out["language"] = ["en"]
    if test:
        for entry in out.get("model-index", []):
            validation = [r for r in entry["results"] if r["dataset"].get("split") == "validation"]
            for result in validation:
                extra = copy.deepcopy(result)
                extra["dataset"]["split"] = "test"
                for metric in extra["metrics"]:
                    metric["value"] = test[metric["type"]]
                entry["results"].append(extra)
    return out


def _row(name: str, metrics: dict[str, float]) -> str:
    return f"| {name} | " + " | ".join(f"{metrics[m]:.4f}" for m in CARD_METRICS) + " |"


def _python(text: str) -> str:
    """``text`` as a Python string literal in double quotes (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)


def _code(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks or line ends it holds."""
    text = " ".join(text.split())  # a line end could start a Markdown block
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _threshold_text(threshold: dict[str, Any]) -> str:
    """What the "Decision threshold" section says above its table."""
    t = threshold["threshold"]
    if threshold.get("signal", True):
        return (
            "The headline numbers use the threshold 0.5 (as the reference runs).  The threshold "
            f"that maximises\nF1 on the validation split is **{t:.4f}**; it is recorded in "
            "`arxivcat.json` and `arxivcat\npredict` labels at it unless told otherwise."
        )
    return (
        f"**This model shows no signal**: {threshold['reason']}.  No threshold was chosen: "
        f"`arxivcat.json` records the default {t}, and labels at any threshold mean nothing "
        "(every paper scores alike).  Check the data and the training settings before using it."
    )


def hub_sections(folder: str, names: tuple[str, str], threshold: dict[str, Any]) -> str:
    """The "How to use" and "Decision threshold" sections (Markdown).

    Every value is written for where it lands: as a Python literal in the snippet (so that no
    label or folder name can break it or add a statement), as a code span in the prose.

    Args:
        folder: The model folder as the snippet names it (a local path, or a Hub repo id).
        names: The negative and positive class names.
        threshold: :func:`arxivcat.predict.choose_threshold.choose_threshold`'s result.
    """
    t = threshold["threshold"]
    positive = _python(names[1])
    rows = []
    for split in ("validation", "test"):
        if split in threshold:
            rows.append(_row(f"{split}, threshold 0.5", threshold[split]["at_0.5"]))
            rows.append(_row(f"{split}, threshold {t:.4f}", threshold[split]["at_threshold"]))
    table = "\n".join(rows)
    command = f"arxivcat predict --model {shlex.quote(folder)} --input papers.jsonl --output"
    return f"""
## How to use

The classifier reads a paper as the pair (title, abstract), truncated from the abstract to the
token budget of training; pass `truncation="only_second"` once, when building the pipeline
(the tokenizer records the budget, but `transformers` pipelines never truncate unless asked).

```python
from transformers import pipeline

classifier = pipeline("text-classification", model={_python(folder)}, truncation="only_second")
paper = {{
    "text": "Fast object detection with region proposal networks",
    "text_pair": "We present a detector that shares convolutional features with ...",
}}
scores = {{r["label"]: r["score"] for r in classifier(paper, top_k=None)}}
print(scores[{positive}], scores[{positive}] > {t!r})
```

In the snippet, {_code(f"scores[{positive}]")} is the probability of the positive class; the label
uses the threshold of the next section.  To score a whole file:
{_code(f"{command} scores.parquet")}.

## Decision threshold

{_threshold_text(threshold)}

| Split and threshold | Accuracy | F1 | Precision | Recall |
|---|---|---|---|---|
{table}
"""


def hub_card(
    card: str,
    folder: str,
    names: tuple[str, str],
    threshold: dict[str, Any],
    test: dict[str, Any] | None,
) -> str:
    """The card with the Hub metadata and the sections above.

    Raises:
        HubCardError: If the card has no front matter.
    """
    metadata, body = _split_front_matter(card)
    metadata = hub_metadata(metadata, test)
    head = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{head}---\n{body.rstrip()}\n{hub_sections(folder, names, threshold)}"
