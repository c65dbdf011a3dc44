"""Every head's logistic regression at once against one scikit-learn fit per head and C.

The frozen probe and the heads' refit fit one class-weighted logistic regression per head and per
``C`` of the grid (:func:`arxivcat.model.logistic.choose_c`: all at once, L-BFGS per problem on
shared matrix products).  This times it beside what it replaced, scikit-learn's
``LogisticRegression(C=C, class_weight="balanced")`` fitted problem by problem, on the same
generated features (correlated, standardized, like an encoder's) and labels (heads from 30% to
1% positive), with the same grid and validation choice; both on this machine's CPU threads.
Prints CPU and wall seconds, their ratio, how often the two choose the same ``C``, and how far
their chosen fits' validation probabilities are apart (both stop at a gradient tolerance of
1e-4, neither at the exact optimum).

Usage: PYTHONPATH=workflow python benchmarks/logistic_fit.py [--rows 50000] [--features 384]
           [--heads 5 50]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from sklearn.linear_model import LogisticRegression

from arxivcat.model.logistic import choose_c
from arxivcat.model.metrics import threshold_report

GRID = (0.001, 0.01, 0.1, 1.0, 10.0)


def generated(rows: int, features: int, heads: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardized features with a low-rank correlation, and heads of falling prevalence."""
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(0).normal(size=(32, features))
    x = rng.normal(size=(rows, 32)) @ mixing + rng.normal(size=(rows, features))
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    signal = x @ np.random.default_rng(1).normal(size=(features, heads)) / np.sqrt(features)
    cut = np.quantile(signal, 1 - np.geomspace(0.3, 0.01, heads), axis=0).diagonal()
    noisy = signal + 0.7 * rng.normal(size=signal.shape)
    return x, (noisy > cut).astype(np.int64)


def one_at_a_time(train, validation) -> tuple[list[float], np.ndarray]:
    """scikit-learn, head by head and C by C: each head's chosen C and validation scores."""
    chosen, scores = [], []
    for head in range(train[1].shape[1]):
        best = None
        for c in GRID:
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
            model.fit(train[0], train[1][:, head])
            p = model.predict_proba(validation[0])[:, 1]
            report = threshold_report({"validation": (validation[1][:, head], p)})
            f1 = report["validation"]["at_threshold"]["f1"]
            if best is None or f1 > best[0]:
                best = (f1, c, p)
        chosen.append(best[1])
        scores.append(best[2])
    return chosen, np.stack(scores, 1)


def timed(function):
    """``function()``, and the wall and CPU seconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main(rows: int, features: int, heads: list[int]) -> None:
    print(f"{rows:,} training and {rows // 2:,} validation rows x {features} features, "
          f"C grid {GRID}\n")  # fmt: skip
    print("| heads | problems | batched CPU s (wall) | one at a time CPU s (wall) | CPU ratio "
          "| same C | max validation probability difference |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count in heads:
        train = generated(rows, features, count, seed=2)
        validation = generated(rows // 2, features, count, seed=3)
        fit, wall, cpu = timed(partial(choose_c, train, validation, GRID, 1000))
        (chosen, scores), old_wall, old_cpu = timed(partial(one_at_a_time, train, validation))
        same = np.mean(np.array(chosen) == fit.c)
        gap = np.abs(fit.probabilities(validation[0]) - scores).max()
        print(f"| {count} | {count * len(GRID)} | {cpu:.1f} ({wall:.1f}) | {old_cpu:.1f} "
              f"({old_wall:.1f}) | {old_cpu / cpu:.1f}x | {same:.0%} | {gap:.4f} |",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=384)
    parser.add_argument("--heads", type=int, nargs="+", default=[5, 50])
    options = parser.parse_args()
    main(options.rows, options.features, options.heads)
