"""A packaged tiny model folder for the predict tests: the tiny model, its card and predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tiny_run import write_model_dir

from arxivcat.predict.choose_threshold import write_threshold
from arxivcat.predict.package_model import package_model
from arxivcat.report.hub_card import class_names, hub_card

EXPERIMENT = {
    "name": "cv-32",
    "labels": ["cs.CV"],
    "dataset_config": "CV",
    "max_length": 64,
}
CARD = """---
license: apache-2.0
model-index:
- name: cv-32
  results:
  - task: {name: Text Classification, type: text-classification}
    dataset: {name: arxiv, type: arxiv, config: CV, split: validation, args: CV}
    metrics:
    - {name: Accuracy, type: accuracy, value: 0.5}
    - {name: F1, type: f1, value: 0.5}
    - {name: Precision, type: precision, value: 0.5}
    - {name: Recall, type: recall, value: 0.5}
---

# cv-32

The card's own text.
"""


def eval_predictions(path: Path, rows: int = 40, seed: int = 0, collapsed: bool = False) -> Path:
    """Evaluate-stage predictions: labels with informative but noisy probabilities.

    ``collapsed``: a model that learnt nothing, whose scores differ by float noise only (under
    1e-6), with 6% positives.
    """
    rng = np.random.default_rng(seed)
    if collapsed:
        labels = (rng.uniform(size=2 * rows) < 0.06).astype(np.int64)
        labels[[0, rows]] = 1
        probability = 0.31 + rng.uniform(0, 1e-6, size=2 * rows)
    else:
        labels = rng.integers(0, 2, size=2 * rows)
        probability = np.clip(0.35 * labels + rng.uniform(0, 0.65, size=2 * rows), 0, 1)
    pq.write_table(
        pa.table(
            {
                "id": [f"p{i}" for i in range(2 * rows)],
                "split": ["validation"] * rows + ["test"] * rows,
                "probability": probability,
                "label": labels.astype(np.int8),
                "is_weak_negative": [False] * (2 * rows),
            }
        ),
        path,
    )
    return path


def packaged_folder(root: Path, collapsed: bool = False) -> Path:
    """A tiny model trained nowhere (random weights), packaged as ``root/results/cv-32/hub``.

    ``collapsed``: its evaluation predictions are those of a model without signal.
    """
    results = root / "results" / "cv-32"
    model = results / "model"
    model.mkdir(parents=True)
    write_model_dir(model, {"max_length": EXPERIMENT["max_length"]})
    (results / "card_loss.png").write_bytes(b"\x89PNG plot")
    (results / "eval").mkdir()
    predictions = eval_predictions(results / "eval" / "predictions.parquet", collapsed=collapsed)
    threshold = write_threshold(predictions, results / "threshold.json")
    names = class_names(EXPERIMENT["labels"], EXPERIMENT["dataset_config"])
    test = {"accuracy": 0.6, "f1": 0.55, "precision": 0.5, "recall": 0.61}
    card = hub_card(CARD, "results/cv-32/hub", names, threshold, test)
    (results / "card.md").write_text(card, encoding="utf-8")
    package_model(
        model,
        results / "card.md",
        [results / "card_loss.png"],
        results / "threshold.json",
        results / "hub",
        EXPERIMENT,
    )
    return results / "hub"
