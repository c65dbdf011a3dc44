"""How far a classifier's probabilities are from frequencies, and a temperature to bring them in.

The expected calibration error (ECE) bins validation papers by probability (15 equal bins) and
averages, weighted by the bins' sizes, the gap between each bin's mean probability and its share
of positives.  Where that gap is large, an experiment may ask for a temperature (``calibration:
temperature``): one number ``T`` fitted on validation by maximum likelihood, by which every logit
is divided.  It moves probabilities, not their order: the F1 at each one's own threshold stays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

BINS = 15
_EPSILON = 1e-12


def reliability(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    """The ECE and the reliability table.

    Each non-empty bin gives its papers, mean probability and share of positives.
    """
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    index = np.minimum((p * BINS).astype(int), BINS - 1)
    rows, ece = [], 0.0
    for b in range(BINS):
        members = index == b
        if not members.any():
            continue
        mean, share = float(p[members].mean()), float(y[members].mean())
        ece += members.sum() / len(p) * abs(mean - share)
        rows.append({"bin": b, "papers": int(members.sum()), "mean_probability": mean,
                     "positive_share": share})  # fmt: skip
    return {"ece": float(ece), "bins": rows}


def logits(probabilities: np.ndarray) -> np.ndarray:
    """The logit of each probability (the logit difference of a two-way softmax)."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), _EPSILON, 1 - _EPSILON)
    return np.log(p) - np.log1p(-p)


def scale(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities with their logits divided by ``temperature``."""
    return 1.0 / (1.0 + np.exp(-logits(probabilities) / temperature))


def fit_temperature(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The temperature in [0.05, 20] that maximises the likelihood of ``labels``.

    The negative log-likelihood is convex in ``1 / T``, so a golden-section search over
    ``log T`` finds its minimum.
    """
    y = np.asarray(labels, dtype=np.float64)
    z = logits(probabilities)

    def loss(log_t: float) -> float:
        q = np.clip(1.0 / (1.0 + np.exp(-z / np.exp(log_t))), _EPSILON, 1 - _EPSILON)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))

    low, high = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(80):
        left, right = high - ratio * (high - low), low + ratio * (high - low)
        if loss(left) < loss(right):
            high = right
        else:
            low = left
    return float(np.exp((low + high) / 2))
