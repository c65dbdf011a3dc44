"""A class-weighted logistic regression whose ``C`` is chosen on validation.

One fit, judged one way, for the frozen-encoder probe (:mod:`arxivcat.probe.train_probe`) and the
heads' refit on fine-tuned features (:mod:`arxivcat.model.refit_heads`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from arxivcat.errors import ArxivcatError
from arxivcat.model.metrics import threshold_report

CLASS_WEIGHT = "balanced"


class OneClassError(ArxivcatError, ValueError):
    """Training labels that hold a single class: there is nothing to fit."""


def choose_c(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    c_grid: Sequence[float],
    max_iter: int,
) -> tuple[LogisticRegression, list[dict[str, float]]]:
    """Fit one model per ``C`` of the grid on ``train``; keep the best on ``validation``.

    Each ``C`` is judged by its validation F1 at its own threshold (the one maximising it), ties
    going to the smaller ``C``.  No other split is seen.

    Args:
        train: Training features and labels (0/1).
        validation: Validation features and labels.
        c_grid: The inverse regularisation strengths to try.
        max_iter: Most iterations of each fit.

    Returns:
        The chosen model and, per ``C``, its validation F1 at its own threshold.

    Raises:
        OneClassError: If the training labels hold a single class.
    """
    if len(np.unique(train[1])) < 2:
        raise OneClassError("training labels hold a single class")
    best: tuple[float, LogisticRegression] | None = None
    grid = []
    for c in sorted(c_grid):
        model = LogisticRegression(C=c, class_weight=CLASS_WEIGHT, max_iter=max_iter)
        model.fit(*train)
        scores = model.predict_proba(validation[0])[:, 1]
        chosen = threshold_report({"validation": (validation[1], scores)})
        f1 = chosen["validation"]["at_threshold"]["f1"]
        grid.append({"C": c, "validation_f1_at_threshold": f1})
        if best is None or f1 > best[0]:
            best = (f1, model)
    assert best is not None
    return best[1], grid
