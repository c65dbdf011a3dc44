"""A cheap baseline for context: TF-IDF n-grams with logistic regression, on the same split.

Trained on the experiment's training table (weak negatives included, as the transformer saw
them) and scored on its validation and test tables with the same metrics as the transformer.
It is made as fair as the fine-tuned model: classes are weighted by their inverse frequency
(``class_weight="balanced"``), so a rare category is not sacrificed to accuracy, and it is
reported at 0.5 and at its own threshold chosen on validation, as the fine-tuned model is.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import write_text_atomic
from arxivcat.model.metrics import binary_metrics, threshold_report
from arxivcat.splits.methods import SPLITS

logger = logging.getLogger(__name__)


class BaselineError(ArxivcatError, ValueError):
    """A problem with the baseline's inputs, described in one line."""


def _texts_and_labels(path: Path) -> tuple[list[str], list[int]]:
    if not path.is_file():
        raise BaselineError(f"{path}: experiment table not found")
    table = pq.read_table(path, columns=["title", "abstract", "label"])
    titles = table["title"].to_pylist()
    abstracts = table["abstract"].to_pylist()
    texts = [f"{t or ''}. {a or ''}" for t, a in zip(titles, abstracts, strict=True)]
    return texts, [int(v) for v in table["label"].to_pylist()]


def train_baseline(
    tables: Mapping[str, str | Path],
    output_path: str | Path,
    seed: int = 0,
    max_features: int = 200_000,
    class_weight: str | None = "balanced",
) -> dict[str, Any]:
    """Fit TF-IDF + logistic regression on train; write validation and test metrics as JSON.

    Args:
        tables: The experiment's ``train``, ``validation`` and ``test`` parquet tables.
        output_path: The ``metrics.json`` to write: ``{"model", "settings", "train_rows",
            "train_seconds", "validation": {...}, "test": {...}, "threshold": {...}}``, the
            splits' metrics at 0.5 and ``threshold`` the one chosen on validation with both
            splits at 0.5 and at it (:func:`~arxivcat.model.metrics.threshold_report`).
        seed: Seeds the solver.
        max_features: Vocabulary size cap (unigrams and bigrams).
        class_weight: ``"balanced"`` (weights inverse to class frequency) or None (unweighted,
            the earlier baseline; kept for comparisons such as ``benchmarks/baselines_real.py``).

    Returns:
        The metrics written.

    Raises:
        BaselineError: If a table is missing or training holds a single class.
    """
    missing = [split for split in SPLITS if split not in tables]
    if missing:
        raise BaselineError(f"baseline: no {', '.join(missing)} table given")
    data = {split: _texts_and_labels(Path(tables[split])) for split in SPLITS}
    train_texts, train_labels = data["train"]
    if len(set(train_labels)) < 2:
        raise BaselineError(f"{tables['train']}: training labels hold a single class")
    started = time.monotonic()
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, max_features=max_features, sublinear_tf=True
    )
    features = vectorizer.fit_transform(train_texts)
    classifier = LogisticRegression(
        max_iter=1000, C=4.0, solver="liblinear", class_weight=class_weight, random_state=seed
    )
    classifier.fit(features, train_labels)
    train_seconds = time.monotonic() - started
    logger.info(
        "baseline trained on %d rows (%d features) in %.1f s",
        len(train_texts),
        features.shape[1],
        train_seconds,
    )
    result: dict[str, Any] = {
        "model": "tfidf-logistic-regression",
        "settings": {
            "ngram_range": [1, 2],
            "min_df": 2,
            "max_features": max_features,
            "C": 4.0,
            "class_weight": class_weight,
        },
        "train_rows": len(train_texts),
        "train_seconds": round(train_seconds, 3),
    }
    scored = {}
    for split in ("validation", "test"):
        texts, labels = data[split]
        probabilities = classifier.predict_proba(vectorizer.transform(texts))[:, 1]
        scored[split] = (labels, probabilities)
        result[split] = binary_metrics(labels, probabilities)
    result["threshold"] = threshold_report(scored)
    for split in ("validation", "test"):
        logger.info(
            "baseline %s F1 %.4f at 0.5, %.4f at the validation threshold %.4f",
            split,
            result[split]["f1"],
            result["threshold"][split]["at_threshold"]["f1"],
            result["threshold"]["threshold"],
        )
    write_text_atomic(output_path, json.dumps(result, indent=2) + "\n")
    return result
