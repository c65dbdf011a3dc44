"""The training loss where the model's own is not the one asked for.

A binary model keeps the reference's cross-entropy unless ``pos_weight`` is set; then its two
classes weigh 1 and the positive weight.  A multi-head model's loss is the binary cross-entropy of
each head's sigmoid, each head's positives weighted by its own weight (``pos_weight: auto`` gives
a head negatives/positives of the training split, capped at ``pos_weight_cap``, so that a category
of one or two percent of arXiv is not learnt as "never").
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def positive_weights(
    labels: np.ndarray, setting: float | str | None, cap: float
) -> np.ndarray | None:
    """The positive weight of each head (one for a binary model), or None for no weighting.

    Args:
        labels: The training labels, ``[rows]`` or ``[rows, heads]`` of 0/1.
        setting: ``pos_weight``: None, a number (every head), or ``auto``.
        cap: The largest weight ``auto`` gives.
    """
    if setting is None:
        return None
    matrix = np.asarray(labels).reshape(len(labels), -1)
    if setting != "auto":
        return np.full(matrix.shape[1], float(setting))
    positives = matrix.sum(axis=0).astype(np.float64)
    negatives = len(matrix) - positives
    return np.minimum(negatives / np.maximum(positives, 1.0), cap)


class ClassifierLoss:
    """The loss of a multi-head model, or of a binary one with weighted positives.

    Args:
        multi_head: One sigmoid per head (binary cross-entropy) rather than a 2-way softmax.
        weights: Each head's positive weight (:func:`positive_weights`), or None.
    """

    def __init__(self, multi_head: bool, weights: np.ndarray | None) -> None:
        self.multi_head = multi_head
        self.weights = None if weights is None else torch.tensor(weights, dtype=torch.float32)

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The mean loss of a batch (computed in fp32)."""
        weights = None if self.weights is None else self.weights.to(logits.device)
        if self.multi_head:
            return F.binary_cross_entropy_with_logits(
                logits.float(), labels.float(), pos_weight=weights
            )
        classes = None if weights is None else torch.cat([weights.new_ones(1), weights])
        return F.cross_entropy(logits.float(), labels.long(), weight=classes)
