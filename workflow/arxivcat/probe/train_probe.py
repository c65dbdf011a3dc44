"""Rule ``train_probe``: a logistic regression on the frozen base encoder's embeddings.

SPECTER was made to be used without fine-tuning: its authors classify papers with a linear model on
its frozen embeddings. This is that baseline, on the experiment's own rows: its training rows'
embeddings (weak negatives included, ``sample_pct`` as the experiment's, joined by id from the
split's embedding and the weak-negative pool's, :mod:`arxivcat.probe.features`), standardized on
training, a logistic regression with balanced class weights per experiment (per head of a multi-head
experiment). Its regularisation ``C`` (from ``probe.c_grid``) and its threshold are chosen on
validation, each ``C`` judged by its validation F1 at its own best threshold (ties to the smaller
``C``); the test split (and the held-out newest papers, when the split definition holds some out)
only scores the chosen model, at 0.5 and at that threshold
(:func:`~arxivcat.model.metrics.threshold_report`). The record states the compute: the fits, and the
experiment's share of the embedding passes it reads (its rows over the rows embedded).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.preprocessing import StandardScaler

from arxivcat.io.atomic import write_text_atomic
from arxivcat.model.logistic import CLASS_WEIGHT, choose_c
from arxivcat.model.metrics import binary_metrics, threshold_report
from arxivcat.model.split_scoring import write_scores
from arxivcat.probe.features import SplitRows, gather, read_table
from arxivcat.probe.settings import ProbeSettings
from arxivcat.splits.holdout import HELDOUT
from arxivcat.splits.methods import SPLITS

logger = logging.getLogger(__name__)

MODEL = "frozen-encoder-logistic-regression"


def probe_records(
    splits: Mapping[str, tuple[np.ndarray, np.ndarray]], settings: ProbeSettings, names: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, np.ndarray]]]:
    """Choose and fit each head's probe; its metrics at 0.5 and at its validation threshold.

    Every head and ``C`` is fitted at once (:func:`~arxivcat.model.logistic.choose_c`); each
    head's ``fit_seconds`` is its share of those fits.

    Args:
        splits: ``train``, ``validation``, ``test`` (and ``heldout``, when given) features
            (standardized) and 0/1 labels, ``[rows]`` or ``[rows, heads]``; every split but
            train is scored.
        settings: The grid and the iteration cap.
        names: What the log lines call each head's probe.

    Returns:
        Each head's record, and its probabilities of each scored split.
    """
    wall, cpu = time.monotonic(), time.process_time()
    fit = choose_c(splits["train"], splits["validation"], settings.c_grid, settings.max_iter)
    share = len(names)
    seconds = {
        "fit_seconds": round((time.monotonic() - wall) / share, 3),
        "fit_cpu_seconds": round((time.process_time() - cpu) / share, 3),
    }
    probabilities = {s: fit.probabilities(x) for s, (x, _) in splits.items() if s != "train"}
    records, scores = [], []
    for k, name in enumerate(names):
        record: dict[str, Any] = {"C": float(fit.c[k]), "grid": fit.grid[k], **seconds}
        scored = {
            split: (labels.reshape(len(labels), -1)[:, k], probabilities[split][:, k])
            for split, (_, labels) in splits.items()
            if split != "train"
        }
        for split, (labels, head_scores) in scored.items():
            record[split] = binary_metrics(labels, head_scores)
        record["threshold"] = threshold_report(scored)
        logger.info(
            "probe %s: C %g, test F1 %.4f at 0.5, %.4f at its validation threshold %.4f",
            name, record["C"], record["test"]["f1"],
            record["threshold"]["test"]["at_threshold"]["f1"], record["threshold"]["threshold"],
        )  # fmt: skip
        records.append(record)
        scores.append({split: head_scores for split, (_, head_scores) in scored.items()})
    return records, scores


def _standardized(rows: dict[str, SplitRows]) -> tuple[dict[str, np.ndarray], float, float]:
    """Features scaled by the training rows' mean and spread; the seconds (wall, CPU) it took."""
    wall, cpu = time.monotonic(), time.process_time()
    scaler = StandardScaler().fit(rows["train"].features)
    scaled = {name: scaler.transform(split.features) for name, split in rows.items()}
    return scaled, time.monotonic() - wall, time.process_time() - cpu


def embedding_share(manifests: Sequence[dict[str, Any]], rows: int) -> dict[str, Any]:
    """The experiment's share of the embedding passes it reads: its rows over the rows embedded.

    ``manifests`` are those of the split's pass and, for an experiment with weak negatives, the
    pool's; the share of their summed compute is its rows' part of their summed rows.
    """
    embedded = sum(m["pass"]["rows"] for m in manifests)
    seconds = sum(m["pass"]["seconds"] for m in manifests)
    cpu_seconds = sum(m["pass"]["cpu_seconds"] for m in manifests)
    share = rows / embedded if embedded else 0.0
    return {
        "rows": rows,
        "of": embedded,
        "seconds": round(share * seconds, 3),
        "cpu_seconds": round(share * cpu_seconds, 3),
        "pass_seconds": round(seconds, 3),
        "pass_cpu_seconds": round(cpu_seconds, 3),
        "placement": manifests[0]["pass"]["placement"],
    }


def train_probe(
    tables: Mapping[str, str | Path],
    embeddings: Sequence[tuple[str | Path, str | Path]],
    output_path: str | Path,
    settings: ProbeSettings,
    predictions_path: str | Path | None = None,
) -> dict[str, Any]:
    """Fit the probe of one experiment (each of its heads) and write its metrics as JSON.

    Args:
        tables: The experiment's ``train``, ``validation`` and ``test`` tables, and optionally
            ``heldout`` (scored too when it holds papers).
        embeddings: Each embedding table the rows are in and its manifest (encoder, pooling, the
            pass's compute): the split's (rule ``embed``) and, for an experiment with weak
            negatives, the pool's (rule ``embed_weak_negatives``).
        output_path: The ``metrics.json`` to write: ``model``, ``encoder``, ``settings``,
            ``train_rows``, ``embedding`` (this experiment's share of the pass), ``fit_seconds``
            and ``fit_cpu_seconds``, and ``C``, ``grid``, ``validation``, ``test``, ``threshold``
            (as the TF-IDF baseline's) or, for a multi-head experiment, those per head under
            ``heads``.
        settings: The ``C`` grid and the iteration cap.
        predictions_path: Where to write each scored paper's probability (of each head), in the
            evaluate stage's format (:func:`~arxivcat.model.split_scoring.predictions_schema`),
            which the card pairs with the fine-tuned model's; None to write none.

    Returns:
        The record written.

    Raises:
        ProbeDataError: If a table is missing or a row has no embedding.
        OneClassError: If training holds a single class (of a head).
    """
    read = {split: read_table(tables[split]) for split in (*SPLITS, HELDOUT) if split in tables}
    heads = read["train"][1]
    splits = [split for split in read if split in SPLITS or len(read[split][0])]
    rows = gather([table for table, _ in embeddings], {split: read[split][0] for split in splits})
    manifests = [json.loads(Path(path).read_text(encoding="utf-8")) for _, path in embeddings]
    features, wall, cpu = _standardized(rows)
    record: dict[str, Any] = {
        "model": MODEL,
        "encoder": manifests[0]["encoder"],
        "settings": {**settings.to_dict(), "class_weight": CLASS_WEIGHT, "standardized": True},
        "train_rows": len(rows["train"]),
        "embedding": embedding_share(manifests, sum(len(r) for r in rows.values())),
    }
    labelled = {s: (features[s], rows[s].labels) for s in splits}
    if heads is None:
        fits, scores = probe_records(labelled, settings, [str(tables["train"])])
        record.update(fits[0])
    else:
        names = [f"{tables['train']} head {head}" for head in heads]
        fits, scores = probe_records(labelled, settings, names)
        record["heads"] = dict(zip(heads, fits, strict=True))
    record["fit_seconds"] = round(wall + sum(f["fit_seconds"] for f in fits), 3)
    record["fit_cpu_seconds"] = round(cpu + sum(f["fit_cpu_seconds"] for f in fits), 3)
    if predictions_path is not None:
        scored = {s: (rows[s].ids, rows[s].labels, rows[s].weak) for s in splits}
        write_scores(predictions_path, scores, scored, heads)
    write_text_atomic(output_path, json.dumps(record, indent=2) + "\n")
    return record
