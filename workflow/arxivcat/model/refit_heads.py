"""Fit each head's last layer on the encoder's features: after training (``refit_heads``) or before.

The same fit serves ``head_init: logistic`` on the pretrained encoder's features before training
(linear probing, then fine-tuning: the encoder learns from heads that already answer rather than
from random ones; docs/benchmarks.md).

Why: on the real records a five-head model's heads under-fit features that hold the answer.  Its
NLP head ranks the training papers at an average precision of 0.77 where a logistic regression on
the same fine-tuned features reaches 0.92 (test 0.63 against 0.86), and neither more steps, a
higher learning rate for the heads nor another weighting of the loss closed that gap; refitting
the heads did (docs/benchmarks.md, "Many heads").

After training, the kept weights' pooled features of the training rows (weak negatives included;
a seeded sample of ``max_rows`` of them on a larger split, since features and fits grow with the
rows, with every positive row of a head the sample would leave with few) and of the validation
rows are computed through the one inference path (the validation rows' come with the validation
pass of those weights, the last epoch's when it scored them; the refitted heads' pass is then
their last layer on those features, not another forward); each head becomes a class-weighted
logistic regression on the training rows' standardized features, its ``C`` chosen on validation
as the frozen probe chooses its own (:func:`~arxivcat.model.logistic.choose_c`), and is folded
back into the classifier (the standardization included), so the model stays a standard sequence
classifier: the Hub folder, the pipeline and predict read it as before.  A binary model's two
rows become ``-w/2`` and ``+w/2``: its softmax is then the regression's sigmoid.  The test
split is never seen.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler

from arxivcat.io.progress import Progress
from arxivcat.model.inference import (
    Placement,
    Tokens,
    classifier_input,
    inference_copy,
    run_batches,
)
from arxivcat.model.launch import TrainingError
from arxivcat.model.logistic import OneClassError, choose_c
from arxivcat.model.split_scoring import SplitPredictions, head_outputs, score_split, split_labels

logger = logging.getLogger(__name__)

#: The regularisation strengths tried for each head (the probe's default grid; a constant of the
#: method, not a setting, so that the train stage's code says all it does).
C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
#: Most iterations of each fit.
MAX_ITER = 1000
#: Fewest positives a sampled refit leaves a head (``refit_max_rows``): a head the uniform sample
#: leaves with fewer keeps every positive row of the split.  Its class-balanced fit weighs its
#: positives as a whole, so their larger share does not shift it; without them a rare head
#: could be left with none, and the refit would fail after the whole training.
MIN_SAMPLED_POSITIVES = 100


def classifier_layer(model: torch.nn.Module) -> torch.nn.Linear:
    """The model's last layer, a linear one on the pooled output (BERT's classification head).

    Raises:
        TrainingError: If the model has no such layer.
    """
    layer = getattr(model, "classifier", None)
    encoder = getattr(model, "base_model", None)
    if not isinstance(layer, torch.nn.Linear) or getattr(encoder, "pooler", None) is None:
        raise TrainingError(
            f"training.refit_heads and head_init: logistic need a classifier that is one linear "
            f"layer on the pooled output (BERT's); {type(model).__name__} has none: set "
            f"refit_heads: false and head_init: random"
        )
    return layer


def sample_rows(split: Any, max_rows: int | None, seed: int) -> Any:
    """``split`` itself, or a seeded uniform sample of ``max_rows`` of its rows (in their order).

    A head the sample leaves with fewer than :data:`MIN_SAMPLED_POSITIVES` positives gets all
    of the split's positive rows added.

    Returns:
        The dataset or, when sampled, an Arrow table of the chosen rows.
    """
    if max_rows is None or len(split) <= max_rows:
        return split
    chosen = np.zeros(len(split), dtype=bool)
    chosen[np.random.default_rng(seed).choice(len(split), max_rows, replace=False)] = True
    positive = split_labels(split, np.int8).reshape(len(split), -1) > 0
    short = positive[chosen].sum(0) < MIN_SAMPLED_POSITIVES
    chosen |= positive[:, short].any(1)
    return split.with_format("arrow")[np.flatnonzero(chosen)]


def head_features(
    model: torch.nn.Module, split: Any, batch_size: int, placement: Placement, every: float
) -> tuple[np.ndarray, np.ndarray]:
    """A tokenized split's pooled features ``[rows, hidden]`` and labels ``[rows, heads]``.

    ``split`` is a ``datasets.Dataset`` or an Arrow table with its columns; the features are
    float32 (half the memory of float64, which the fits do not need).
    """
    labels = split_labels(split).reshape(len(split), -1)
    progress = Progress(logger, "head refit: features", len(split), every=every, unit="rows")
    pad = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    features, _ = run_batches(
        classifier_input(model), Tokens.from_arrow(split), batch_size, placement, pad, progress
    )
    progress.finish()
    return features.astype(np.float32, copy=False), labels


def fit_heads(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    device: str | torch.device = "cpu",
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """One class-weighted logistic regression per head, in the features' own units.

    Args:
        train: Training features ``[rows, hidden]`` and labels ``[rows, heads]``.
        validation: Validation features and labels, to choose each head's ``C``.
        device: Where the fits run (every head and ``C`` at once).

    Returns:
        Weights ``[heads, hidden]``, biases ``[heads]`` (the scaler folded in) and, per head, the
        chosen ``C``, the grid's validation F1s and the chosen fit's iterations.
    """
    scaler = StandardScaler().fit(train[0])
    x_train, x_validation = scaler.transform(train[0]), scaler.transform(validation[0])
    fit = choose_c((x_train, train[1]), (x_validation, validation[1]), C_GRID, MAX_ITER, device)
    weights = fit.coef / scaler.scale_
    biases = fit.intercept - weights @ scaler.mean_
    record = [
        {"C": float(c), "grid": grid, "iterations": int(steps)}
        for c, grid, steps in zip(fit.c, fit.grid, fit.iterations, strict=True)
    ]
    return weights, biases, record


def set_classifier(layer: torch.nn.Linear, weights: np.ndarray, biases: np.ndarray) -> None:
    """Write the fitted heads into the last layer (a 2-way one gets ``-w/2`` and ``+w/2``)."""
    if layer.out_features == 2 and len(weights) == 1:  # a binary model's 2-way softmax
        weights = np.concatenate([-weights / 2, weights / 2])
        biases = np.concatenate([-biases / 2, biases / 2])
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weights, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.as_tensor(biases, dtype=layer.bias.dtype))


def refit_heads(
    model: torch.nn.Module,
    train: Any,
    validation: Any,
    batch_size: int,
    placement: Placement,
    progress_seconds: float = 60.0,
    max_rows: int | None = None,
    seed: int = 0,
    encoder: str = "fine-tuned",
    scored: SplitPredictions | None = None,
) -> tuple[dict[str, Any], SplitPredictions]:
    """Refit ``model``'s heads on its own features; return the record and the new validation pass.

    Args:
        model: The sequence classifier (its fp32 weights are changed in place).
        train: The tokenized training split (labels included).
        validation: The tokenized validation split.
        batch_size: Rows per forward pass.
        placement: Where the features are computed (the inference precision).
        progress_seconds: Longest wait between two progress lines.
        max_rows: Most training rows to fit on (a seeded uniform sample); None for all.
        seed: The sample's seed.
        encoder: Which encoder's features these are, for the record and the log: "fine-tuned"
            (the refit after training) or "pretrained" (``head_init: logistic``, before it).
        scored: A pass of these very weights over ``validation`` that kept its features (the
            last epoch's), fitted on instead of running the weights over validation again.

    Returns:
        The record training keeps, and the validation pass of the fitted heads: their
        probabilities computed from the pass's features (one forward over validation in all).

    Raises:
        TrainingError: If the model's last layer is not one linear layer on the pooled output,
            or a head's training rows hold a single class.
    """
    layer = classifier_layer(model)
    wall, cpu = time.monotonic(), time.process_time()
    running = inference_copy(model, placement)
    fitted = sample_rows(train, max_rows, seed)
    features = head_features(running, fitted, batch_size, placement, progress_seconds)
    pooled = None if scored is None else scored.features
    reused = pooled is not None
    if scored is None or pooled is None:
        scored = score_split(
            running, validation, batch_size, placement, "validation", progress_seconds, True
        )
        pooled = scored.features
    assert pooled is not None  # score_split kept them
    # A GPU solves them faster; elsewhere (a TPU's XLA, MPS without float64) the CPU does.
    device = placement.device if placement.device.type == "cuda" else "cpu"
    fitting = time.monotonic()
    try:
        weights, biases, heads = fit_heads(
            features, (pooled, scored.labels.reshape(len(scored.ids), -1)), device
        )
    except OneClassError as error:
        what = "head fit before training" if encoder == "pretrained" else "head refit"
        raise TrainingError(f"{what}: {error}") from None
    set_classifier(layer, weights, biases)
    record = {
        "method": f"class-weighted logistic regression on the {encoder} encoder's pooled features",
        "encoder": encoder,
        "heads": heads,
        "rows": {"train": len(fitted), "validation": len(scored.ids)},
        "train_rows_available": len(train),
        "validation_features": "the last epoch's pass" if reused else "computed",
        "fit_seconds": round(time.monotonic() - fitting, 2),
        "seconds": round(time.monotonic() - wall, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }
    logger.info(
        "heads fitted on the %s encoder's features (C %s) in %.0f s, %.0f s of them the fits",
        encoder,
        ", ".join(f"{h['C']:g}" for h in heads[:10]),
        record["seconds"],
        record["fit_seconds"],
    )
    return record, _rescored(layer, scored, pooled, placement)


def _rescored(
    layer: torch.nn.Linear, scored: SplitPredictions, pooled: np.ndarray, placement: Placement
) -> SplitPredictions:
    """``scored`` as the fitted ``layer`` scores it, run in ``placement`` on its ``pooled`` rows."""
    with torch.no_grad():
        weight, bias = (p.to(placement.device, placement.dtype) for p in (layer.weight, layer.bias))
        inputs = torch.from_numpy(pooled).to(placement.device, placement.dtype)
        logits = torch.nn.functional.linear(inputs, weight, bias).float().cpu().numpy()
    probabilities, loss = head_outputs(logits, scored.labels, scored.heads is not None)
    return dataclasses.replace(scored, probabilities=probabilities, loss=loss, features=None)
