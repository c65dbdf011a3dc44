"""Class-weighted logistic regressions, one per head, each ``C`` chosen on validation.

One fit, judged one way, for the frozen-encoder probe (:mod:`arxivcat.probe.train_probe`) and the
heads' refit on fine-tuned features (:mod:`arxivcat.model.refit_heads`).  Each problem is
scikit-learn's ``LogisticRegression(C=C, class_weight="balanced")``: the class-weighted mean
log-loss plus ``||w||^2 / (2 C n)``, the intercept not penalised, solved from zero until no
gradient entry exceeds :data:`TOLERANCE` (scikit-learn's ``tol``) or the objective stops
falling.  Every head and every ``C`` of the grid is solved at once, by L-BFGS with its own history
and line search per problem: the problems share the features, so an iteration is one matrix
product for all of them where one fit at a time makes it a matrix-vector product per problem
(``benchmarks/logistic_fit.py``; docs/benchmarks.md, "Many heads").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from arxivcat.errors import ArxivcatError
from arxivcat.model.metrics import threshold_report

#: The class weights: each class weighs ``rows / (2 x its rows)``, as scikit-learn's "balanced".
CLASS_WEIGHT = "balanced"
#: A fit stops once no entry of its gradient exceeds this (scikit-learn's default ``tol``).
TOLERANCE = 1e-4
#: Curvature pairs each L-BFGS problem keeps (scipy's default).
MEMORY = 10
#: Most halvings of a step before a problem's line search gives up (it has converged).
MAX_HALVINGS = 30
#: float64's machine epsilon: a pair whose curvature is below it (relative) is not kept, and a
#: relative decrease of the objective below 64 times it ends a fit (scikit-learn's ``ftol``).
EPSILON = float(np.finfo(np.float64).eps)
#: Most entries of a row block's ``rows x problems`` products held at once.
BLOCK_ENTRIES = 2**24


class OneClassError(ArxivcatError, ValueError):
    """Training labels that hold a single class: there is nothing to fit."""


@dataclass(frozen=True)
class LogisticFit:
    """Each head's chosen regression, in the features' units, and how it was chosen."""

    coef: np.ndarray
    """Weights ``[heads, features]``."""
    intercept: np.ndarray
    """Biases ``[heads]``."""
    c: np.ndarray
    """The chosen ``C`` of each head."""
    grid: list[list[dict[str, float]]]
    """Per head, per ``C`` (ascending): its validation F1 at its own threshold."""
    iterations: np.ndarray
    """L-BFGS iterations of each head's chosen fit."""

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Each row's probability of each head, ``[rows, heads]``."""
        return _probabilities(features, self.coef, self.intercept)


def _probabilities(features: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """Sigmoids of the logits ``[rows, heads]`` (float64, a block of rows at a time)."""
    block = max(1, BLOCK_ENTRIES // max(1, features.shape[1]))
    logits = np.empty((len(features), len(coef)))
    for start in range(0, len(features), block):
        logits[start : start + block] = features[start : start + block].astype(np.float64) @ coef.T
    return 1.0 / (1.0 + np.exp(-(logits + intercept)))


class _Problems:
    """The objectives of ``problems`` regressions on shared features: value and gradient."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, c: torch.Tensor) -> None:
        self.x, self.y = x, y
        rows = len(y)
        self.column = torch.arange(len(c), device=x.device) % y.shape[1]
        positives = y.sum(0, dtype=torch.float64)[self.column]
        # Balanced class weights; they sum to ``rows`` for every problem.
        self.weight = (
            (rows / (2 * positives)).to(x.dtype),
            (rows / (2 * (rows - positives))).to(x.dtype),
        )
        self.penalty = 1.0 / (c * rows)
        self.rows = rows
        self.block = max(1, BLOCK_ENTRIES // len(c))

    def __call__(self, theta: torch.Tensor, on: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The objectives and gradients (float64) of problems ``on`` at ``theta`` ``[on, d+1]``."""
        w, b = theta[:, :-1], theta[:, -1]
        w32 = w.to(self.x.dtype)
        positive, negative = self.weight[0][on], self.weight[1][on]
        loss = torch.zeros(len(on), dtype=torch.float64, device=theta.device)
        grad_w = torch.zeros_like(w)
        grad_b = torch.zeros_like(b)
        for start in range(0, self.rows, self.block):
            x = self.x[start : start + self.block]
            y = self.y[start : start + self.block][:, self.column[on]]
            z = x @ w32.T + b.to(x.dtype)
            s = torch.where(y > 0, positive, negative)
            loss += (s * (torch.nn.functional.softplus(z) - y * z)).sum(0, dtype=torch.float64)
            r = s * (torch.sigmoid(z) - y)
            grad_w += (r.T @ x).to(torch.float64)
            grad_b += r.sum(0, dtype=torch.float64)
        penalty = self.penalty[on]
        loss = loss / self.rows + 0.5 * penalty * (w * w).sum(1)
        grad_w = grad_w / self.rows + penalty[:, None] * w
        return loss, torch.cat([grad_w, grad_b[:, None] / self.rows], 1)


def _direction(grad: torch.Tensor, pairs: list, gamma: torch.Tensor) -> torch.Tensor:
    """L-BFGS's two-loop recursion, per problem (a zero pair is no update for its problem)."""
    q = grad.clone()
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * (s * q).sum(1)
        q -= alpha[:, None] * y
        alphas.append(alpha)
    r = gamma[:, None] * q
    for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
        r += s * (alpha - rho * (y * r).sum(1))[:, None]
    return -r


def _line_search(
    problems: _Problems,
    on: torch.Tensor,
    start: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    step: torch.Tensor,
    slope: torch.Tensor,
    length: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Backtracking (Armijo) per problem: halve each step until the objective falls enough.

    Args:
        problems: The objectives.
        on: The problems searched.
        start: Their parameters, objectives and gradients.
        step: Their directions.
        slope: Each direction's slope (negative).
        length: Each first step's length.

    Returns:
        The new parameters, objectives and gradients, and which problems found a step (the
        others keep their start).
    """
    theta, value, _ = start
    new = [part.clone() for part in start]
    taken = torch.zeros(len(on), dtype=torch.bool, device=theta.device)
    for _ in range(MAX_HALVINGS):
        trying = ~taken
        trial = theta[trying] + length[trying, None] * step[trying]
        trial_value, trial_grad = problems(trial, on[trying])
        good = trial_value <= value[trying] + 1e-4 * length[trying] * slope[trying]
        chosen = trying.nonzero().squeeze(1)[good]
        for part, tried in zip(new, (trial, trial_value, trial_grad), strict=True):
            part[chosen] = tried[good]
        taken[chosen] = True
        if taken.all():
            break
        length = torch.where(taken, length, length / 2)
    return new[0], new[1], new[2], taken


def solve(
    x: torch.Tensor, y: torch.Tensor, c: torch.Tensor, max_iter: int, tolerance: float = TOLERANCE
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit ``len(c)`` class-weighted logistic regressions on the shared features ``x``.

    Args:
        x: Features ``[rows, d]`` (their dtype is the products').
        y: 0/1 labels ``[rows, columns]``, in ``x``'s dtype; each column holds both classes.
            Problem ``p`` fits column ``p % columns`` (a grid of ``C`` repeats the heads).
        c: Each problem's ``C`` (float64).
        max_iter: Most L-BFGS iterations of each problem.
        tolerance: A problem stops once no entry of its gradient exceeds this.

    Returns:
        Each problem's weights and intercept ``[problems, d + 1]`` (float64) and iterations.
    """
    problems = _Problems(x, y, c)
    count = len(c)
    theta = torch.zeros(count, x.shape[1] + 1, dtype=torch.float64, device=x.device)
    every = torch.arange(count, device=x.device)
    value, grad = problems(theta, every)
    active = grad.abs().amax(1) > tolerance
    iterations = torch.zeros(count, dtype=torch.long, device=x.device)
    pairs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    gamma = torch.ones(count, dtype=torch.float64, device=x.device)
    for _ in range(max_iter):
        on = every[active]
        if not len(on):
            break
        step = _direction(grad[on], [(s[on], y_[on], r[on]) for s, y_, r in pairs], gamma[on])
        slope = (step * grad[on]).sum(1)
        uphill = slope >= 0  # a poor curvature estimate: steepest descent instead
        step[uphill], slope[uphill] = -grad[on][uphill], -(grad[on][uphill] ** 2).sum(1)
        # Without curvature pairs yet, a first step no longer than 1 (as scipy's L-BFGS-B).
        length = torch.ones(len(on), dtype=torch.float64, device=x.device)
        if not pairs:
            length = torch.clamp(1.0 / step.norm(dim=1), max=1.0)
        new_theta, new_value, new_grad, taken = _line_search(
            problems, on, (theta[on], value[on], grad[on]), step, slope, length
        )
        s, y_step = new_theta - theta[on], new_grad - grad[on]
        curvature, change = (s * y_step).sum(1), (y_step * y_step).sum(1)
        useful = taken & (curvature > EPSILON * change) & (change > 0)  # scipy's test
        kept = on[useful]  # every other problem gets a zero pair: no update
        s_pair, y_pair = torch.zeros_like(theta), torch.zeros_like(theta)
        s_pair[kept], y_pair[kept] = s[useful], y_step[useful]
        rho = torch.zeros(count, dtype=torch.float64, device=x.device)
        rho[kept] = 1.0 / curvature[useful]
        gamma[kept] = curvature[useful] / change[useful]
        pairs = [*pairs, (s_pair, y_pair, rho)][-MEMORY:]
        decrease = (value[on] - new_value) / torch.clamp(value[on].abs(), min=1.0)
        theta[on], value[on], grad[on] = new_theta, new_value, new_grad
        iterations[on] += 1
        done = ~taken | (new_grad.abs().amax(1) <= tolerance) | (decrease <= 64 * EPSILON)
        active[on[done]] = False
    return theta, iterations


def choose_c(
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    c_grid: Sequence[float],
    max_iter: int,
    device: str | torch.device = "cpu",
) -> LogisticFit:
    """Fit every head at every ``C`` of the grid on ``train``; keep each head's best on validation.

    Each ``C`` is judged by its validation F1 at its own threshold (the one maximising it), ties
    going to the smaller ``C``.  No other split is seen.

    Args:
        train: Training features ``[rows, d]`` and 0/1 labels ``[rows]`` or ``[rows, heads]``.
        validation: Validation features and labels, alike.
        c_grid: The inverse regularisation strengths to try.
        max_iter: Most iterations of each fit.
        device: Where the fits run (the features' dtype is theirs: float32 or float64).

    Raises:
        OneClassError: If a head's training labels hold a single class.
    """
    labels = train[1].reshape(len(train[1]), -1)
    heads = labels.shape[1]
    for head in range(heads):
        if len(np.unique(labels[:, head])) < 2:
            where = f" of head {head}" if heads > 1 else ""
            raise OneClassError(f"training labels{where} hold a single class")
    grid = sorted(c_grid)
    x = torch.as_tensor(train[0], device=device)
    y = torch.as_tensor(labels, dtype=x.dtype, device=device)
    strengths = torch.tensor(np.repeat(grid, heads), dtype=torch.float64, device=device)
    theta, iterations = solve(x, y, strengths, max_iter)
    fits = theta.cpu().numpy().reshape(len(grid), heads, -1)
    truth = validation[1].reshape(len(validation[1]), -1)
    f1s = np.zeros((len(grid), heads))
    for k, fit in enumerate(fits):  # one C's validation scores at a time
        scores = _probabilities(validation[0], fit[:, :-1], fit[:, -1])
        for head in range(heads):
            report = threshold_report({"validation": (truth[:, head], scores[:, head])})
            f1s[k, head] = report["validation"]["at_threshold"]["f1"]
    chosen = f1s.argmax(0)  # the first of equals: the smaller C
    records = [
        [{"C": c, "validation_f1_at_threshold": float(f1s[k, head])} for k, c in enumerate(grid)]
        for head in range(heads)
    ]
    picked = fits[chosen, np.arange(heads)]
    counts = iterations.cpu().numpy().reshape(len(grid), heads)[chosen, np.arange(heads)]
    return LogisticFit(picked[:, :-1], picked[:, -1], np.array(grid)[chosen], records, counts)
