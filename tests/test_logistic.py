"""Many class-weighted logistic regressions at once: scikit-learn's objective, C on validation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from arxivcat.model.logistic import OneClassError, choose_c, solve
from arxivcat.model.metrics import threshold_report


def _data(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated standardized features and three heads, from common to rare (3% positive)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)) @ rng.normal(size=(4, 24)) + 0.5 * rng.normal(size=(rows, 24))
    x = (x - x.mean(0)) / x.std(0)
    signal = x @ np.random.default_rng(1).normal(size=(24, 3)) / 5
    y = (signal + rng.normal(size=(rows, 3)) > np.array([0.3, 1.2, 2.0])).astype(np.int64)
    return x, y


def test_each_problem_is_scikit_learns_balanced_logistic_regression():
    x, y = _data(1500)
    grid = [0.01, 1.0, 10.0]
    labels = torch.tensor(np.tile(y, len(grid)), dtype=torch.float64)
    c = torch.tensor(np.repeat(grid, 3), dtype=torch.float64)
    theta, iterations = solve(torch.tensor(x), labels, c, 5000, tolerance=1e-7)
    assert (iterations > 0).all() and (iterations < 5000).all()
    for k, (strength, head) in enumerate((g, h) for g in grid for h in range(3)):
        exact = LogisticRegression(C=strength, class_weight="balanced", tol=1e-12, max_iter=10**5)
        exact.fit(x, y[:, head])
        assert theta[k, :-1].numpy() == pytest.approx(exact.coef_[0], abs=1e-4)
        assert float(theta[k, -1]) == pytest.approx(exact.intercept_[0], abs=1e-4)


def test_at_the_default_tolerance_it_is_as_close_to_the_optimum_as_scikit_learn():
    x, y = _data(1500)
    fit = choose_c((x, y), (x, y), [1.0], 1000)
    for head in range(3):
        exact = LogisticRegression(C=1.0, class_weight="balanced", tol=1e-12, max_iter=10**5)
        default = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        best = exact.fit(x, y[:, head]).predict_proba(x)[:, 1]
        theirs = np.abs(default.fit(x, y[:, head]).predict_proba(x)[:, 1] - best).max()
        ours = np.abs(fit.probabilities(x)[:, head] - best).max()
        assert ours < max(2 * theirs, 1e-3)


def test_each_head_keeps_the_c_with_the_best_validation_f1_ties_to_the_smaller():
    (x, y), (xv, yv) = _data(1200), _data(800, seed=5)
    grid = [10.0, 0.001, 0.1]
    fit = choose_c((x.astype(np.float32), y), (xv, yv), grid, 1000)
    assert fit.coef.shape == (3, 24) and fit.intercept.shape == (3,)
    for head in range(3):
        record = fit.grid[head]
        assert [r["C"] for r in record] == sorted(grid)
        f1s = [r["validation_f1_at_threshold"] for r in record]
        assert fit.c[head] == sorted(grid)[int(np.argmax(f1s))]  # the first of equals
        chosen = threshold_report({"validation": (yv[:, head], fit.probabilities(xv)[:, head])})
        assert chosen["validation"]["at_threshold"]["f1"] == pytest.approx(max(f1s), abs=1e-9)
    binary = choose_c((x, y[:, 0]), (xv, yv[:, 0]), grid, 1000)
    assert binary.coef.shape == (1, 24)
    assert binary.probabilities(xv)[:, 0] == pytest.approx(fit.probabilities(xv)[:, 0], abs=5e-3)


def test_a_tie_on_validation_goes_to_the_smallest_c():
    x = np.random.default_rng(3).normal(size=(400, 5))
    y = (x[:, 0] > 0).astype(np.int64)
    x[:, 0] += np.where(y > 0, 3.0, -3.0)  # a wide margin: every C separates validation
    fit = choose_c((x[:200], y[:200]), (x[200:], y[200:]), [1.0, 0.01, 100.0], 1000)
    assert [r["validation_f1_at_threshold"] for r in fit.grid[0]] == [1.0, 1.0, 1.0]
    assert fit.c[0] == 0.01


def test_a_head_with_one_class_is_refused_by_its_number():
    x, y = _data(300)
    y[:, 2] = 0
    with pytest.raises(OneClassError, match="training labels of head 2 hold a single class"):
        choose_c((x, y), (x, y), [1.0], 100)
    with pytest.raises(OneClassError, match=r"^training labels hold a single class$"):
        choose_c((x, y[:, 2]), (x, y[:, 2]), [1.0], 100)
