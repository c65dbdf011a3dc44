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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import write_text_atomic
from arxivcat.model.metrics import binary_metrics, threshold_report
from arxivcat.model.split_scoring import write_scores
from arxivcat.splits.holdout import HELDOUT
from arxivcat.splits.methods import SPLITS
from arxivcat.splits.table_schema import column_matrix, table_heads

logger = logging.getLogger(__name__)

#: The inverse regularisation strength of every baseline fit.
C = 4.0


class BaselineError(ArxivcatError, ValueError):
    """A problem with the baseline's inputs, described in one line."""


@dataclass(frozen=True)
class _Table:
    """One experiment table as the baseline reads it."""

    texts: list[str]
    labels: np.ndarray  # [rows] or [rows, heads]
    ids: pa.Array
    weak: np.ndarray
    heads: list[str] | None


def _read(path: Path) -> _Table:
    """Texts, labels, ids, weak-negative flags and the heads of an experiment table."""
    if not path.is_file():
        raise BaselineError(f"{path}: experiment table not found")
    table = pq.read_table(path, columns=["id", "title", "abstract", "label", "is_weak_negative"])
    titles = table["title"].to_pylist()
    abstracts = table["abstract"].to_pylist()
    return _Table(
        texts=[f"{t or ''}. {a or ''}" for t, a in zip(titles, abstracts, strict=True)],
        labels=column_matrix(table.column("label")).astype(np.int64),
        ids=table["id"].combine_chunks(),
        weak=table["is_weak_negative"].to_numpy(zero_copy_only=False).astype(bool),
        heads=table_heads(pq.read_schema(path)),
    )


def _fit(
    features: dict[str, Any],
    labels: dict[str, np.ndarray],
    seed: int,
    class_weight: str | None,
    name: str,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Fit one logistic regression; its metrics at 0.5 and at its own validation threshold.

    Returns:
        The record, and each scored split's probabilities.
    """
    if len(np.unique(labels["train"])) < 2:
        raise BaselineError(f"{name}: training labels hold a single class")
    started = time.monotonic()
    classifier = LogisticRegression(
        max_iter=1000, C=C, solver="liblinear", class_weight=class_weight, random_state=seed
    )
    classifier.fit(features["train"], labels["train"])
    record: dict[str, Any] = {"train_seconds": round(time.monotonic() - started, 3)}
    scored = {}
    for split in (s for s in (*SPLITS[1:], HELDOUT) if s in labels and len(labels[s])):
        probabilities = classifier.predict_proba(features[split])[:, 1]
        scored[split] = (labels[split], probabilities)
        record[split] = binary_metrics(labels[split], probabilities)
    record["threshold"] = threshold_report(scored)
    logger.info(
        "baseline %s: test F1 %.4f at 0.5, %.4f at its validation threshold %.4f",
        name,
        record["test"]["f1"],
        record["threshold"]["test"]["at_threshold"]["f1"],
        record["threshold"]["threshold"],
    )
    return record, {split: probabilities for split, (_, probabilities) in scored.items()}


def _features(data: Mapping[str, _Table], splits: list[str], max_features: int) -> dict[str, Any]:
    """TF-IDF features of each split, the vocabulary fitted on training."""
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, max_features=max_features, sublinear_tf=True
    )
    features = {"train": vectorizer.fit_transform(data["train"].texts)}
    features.update({s: vectorizer.transform(data[s].texts) for s in splits[1:] if data[s].texts})
    logger.info(
        "baseline features: %d training rows, %d features",
        features["train"].shape[0],
        features["train"].shape[1],
    )
    return features


def _fit_heads(
    features: dict[str, Any],
    data: Mapping[str, _Table],
    splits: list[str],
    seed: int,
    class_weight: str | None,
    name: str,
) -> list[tuple[dict[str, Any], dict[str, np.ndarray]]]:
    """One :func:`_fit` for a binary experiment, one per head (in order) for a multi-head one."""
    heads = data["train"].heads
    if heads is None:
        labels = {split: data[split].labels for split in splits}
        return [_fit(features, labels, seed, class_weight, name)]
    return [
        _fit(
            features,
            {split: data[split].labels[:, k] for split in splits if len(data[split].labels)},
            seed,
            class_weight,
            f"{name} head {head}",
        )
        for k, head in enumerate(heads)
    ]


def train_baseline(
    tables: Mapping[str, str | Path],
    output_path: str | Path,
    seed: int = 0,
    max_features: int = 200_000,
    class_weight: str | None = "balanced",
    predictions_path: str | Path | None = None,
) -> dict[str, Any]:
    """Fit TF-IDF + logistic regression on train; write validation and test metrics as JSON.

    Args:
        tables: The experiment's ``train``, ``validation`` and ``test`` parquet tables, and
            optionally ``heldout`` (scored too when it holds papers).
        output_path: The ``metrics.json`` to write: ``{"model", "settings", "train_rows",
            "train_seconds", "validation": {...}, "test": {...}, "threshold": {...}}``, the
            splits' metrics at 0.5 and ``threshold`` the one chosen on validation with both
            splits at 0.5 and at it (:func:`~arxivcat.model.metrics.threshold_report`).  For a
            multi-head experiment, one logistic regression per head on the same features, each
            head's record under ``"heads"``.
        seed: Seeds the solver.
        max_features: Vocabulary size cap (unigrams and bigrams).
        class_weight: ``"balanced"`` (weights inverse to class frequency) or None (unweighted,
            the earlier baseline; kept for comparisons such as ``benchmarks/baselines_real.py``).
        predictions_path: Where to write each scored paper's probability (of each head), in the
            evaluate stage's format (:func:`~arxivcat.model.split_scoring.predictions_schema`),
            which the card pairs with the fine-tuned model's; None to write none.

    Returns:
        The metrics written.

    Raises:
        BaselineError: If a table is missing or training holds a single class (of a head).
    """
    missing = [split for split in SPLITS if split not in tables]
    if missing:
        raise BaselineError(f"baseline: no {', '.join(missing)} table given")
    splits = [*SPLITS, *(s for s in (HELDOUT,) if s in tables)]
    data = {split: _read(Path(tables[split])) for split in splits}
    heads = data["train"].heads
    started = time.monotonic()
    features = _features(data, splits, max_features)
    result: dict[str, Any] = {
        "model": "tfidf-logistic-regression",
        "settings": {
            "ngram_range": [1, 2],
            "min_df": 2,
            "max_features": max_features,
            "C": C,
            "class_weight": class_weight,
        },
        "train_rows": features["train"].shape[0],
    }
    fits = _fit_heads(features, data, splits, seed, class_weight, str(tables["train"]))
    if heads is None:
        result.update(fits[0][0])
    else:
        result["heads"] = {head: record for head, (record, _) in zip(heads, fits, strict=True)}
    result["train_seconds"] = round(time.monotonic() - started, 3)
    if predictions_path is not None:
        rows = {split: (data[split].ids, data[split].labels, data[split].weak) for split in splits}
        write_scores(predictions_path, [scores for _, scores in fits], rows, heads)
    write_text_atomic(output_path, json.dumps(result, indent=2) + "\n")
    return result
