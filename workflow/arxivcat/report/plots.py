"""Figures for cards and the summary, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from arxivcat.io.atomic import atomic_path
from arxivcat.model.metrics import pr_curve


def _save(figure: plt.Figure, path: str | Path) -> Path:
    """Save ``figure`` as PNG through a temporary name, then close it."""
    with atomic_path(path) as partial:
        figure.savefig(partial, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return Path(path)


def plot_pr_curves(
    curves: dict[str, tuple[Sequence[int], Sequence[float]]], title: str, path: str | Path
) -> Path:
    """Precision-recall curves of the positive class, one per split.

    Args:
        curves: ``{split name: (labels, probabilities)}``; splits without a positive are skipped.
        title: The figure title.
        path: The PNG to write.
    """
    figure, axes = plt.subplots(figsize=(5, 4))
    for name, (labels, probabilities) in curves.items():
        if not np.asarray(labels).any():
            continue
        recall, precision = pr_curve(labels, probabilities)
        axes.plot(recall, precision, label=name, drawstyle="steps-post")
    axes.set_xlabel("Recall")
    axes.set_ylabel("Precision")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.02)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="lower left")
    return _save(figure, path)


# Fewer training-loss points than this get markers: a one-epoch run may log a single loss, and a
# line through one point draws nothing.
_MARKED_POINTS = 30


def loss_figure(
    train: Sequence[tuple[int, float]], validation: Sequence[tuple[int, float]], title: str
) -> plt.Figure:
    """Training loss (every logged step) and validation loss (every evaluation) against step."""
    figure, axes = plt.subplots(figsize=(6, 4))
    if train:
        steps, losses = zip(*train, strict=True)
        marker = "o" if len(train) < _MARKED_POINTS else None
        axes.plot(steps, losses, label="training loss", linewidth=1, marker=marker, markersize=4)
    if validation:
        steps, losses = zip(*validation, strict=True)
        axes.plot(steps, losses, "o-", label="validation loss")
    axes.set_xlabel("Step")
    low, high = axes.get_xlim()
    if high - low < 2:  # one step only: widen so that the axis can show whole steps
        middle = (low + high) / 2
        axes.set_xlim(middle - 1, middle + 1)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("Cross-entropy loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if train or validation:
        axes.legend()
    return figure


def plot_losses(
    train: Sequence[tuple[int, float]],
    validation: Sequence[tuple[int, float]],
    title: str,
    path: str | Path,
) -> Path:
    """Draw :func:`loss_figure` to the PNG ``path``."""
    return _save(loss_figure(train, validation, title), path)


def summary_figure(
    names: Sequence[str], series: dict[str, Sequence[float | None]], title: str
) -> plt.Figure:
    """Grouped bars: one group per experiment, one bar per series (missing values left out).

    The legend sits above the axes, beside the title's line, so that it never covers a bar.
    """
    figure, axes = plt.subplots(figsize=(max(6, 1.3 * len(names) + 2), 4))
    width = 0.8 / max(len(series), 1)
    positions = np.arange(len(names))
    for index, (label, values) in enumerate(series.items()):
        heights = [np.nan if v is None else v for v in values]
        bars = axes.bar(positions + index * width, heights, width, label=label)
        # Values on the bars: an F1 of 0 draws no bar, and must still read as 0, not as missing.
        texts = ["" if v is None else f"{v:.2f}" for v in values]
        axes.bar_label(bars, labels=texts, fontsize="x-small", padding=2)
        for position, value in zip(positions + index * width, values, strict=True):
            if value is None:
                axes.text(position, 0.01, "n/a", ha="center", va="bottom", fontsize="x-small")
    axes.set_xticks(positions + width * (len(series) - 1) / 2)
    axes.set_xticklabels(names, rotation=20, ha="right")
    axes.set_ylim(0, 1.08)
    axes.set_yticks(np.linspace(0, 1, 6))
    axes.set_ylabel("F1 (positive class)")
    axes.set_title(title, pad=30)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=max(len(series), 1),
        fontsize="small",
        frameon=False,
    )
    return figure


def plot_summary(
    names: Sequence[str], series: dict[str, Sequence[float | None]], title: str, path: str | Path
) -> Path:
    """Draw :func:`summary_figure` to the PNG ``path``."""
    return _save(summary_figure(names, series, title), path)


def plot_years(years: dict[str, list[dict]], title: str, path: str | Path) -> Path:
    """F1 by year of first submission, one line per split; each point labelled with its positives.

    Args:
        years: Split name to :func:`~arxivcat.model.metrics.metrics_by_year` rows.
        title: The figure title.
        path: The PNG to write.
    """
    figure, axes = plt.subplots(figsize=(6, 3.6))
    for name, rows in years.items():
        if not rows:
            continue
        xs, ys = [r["year"] for r in rows], [r["f1"] for r in rows]
        axes.plot(xs, ys, marker="o", label=name)
        for x, y, row in zip(xs, ys, rows, strict=True):
            axes.annotate(f"{row['positives']}", (x, y), textcoords="offset points",
                          xytext=(0, 6), ha="center", fontsize=7)  # fmt: skip
    axes.set_xlabel("Year of first submission (numbers: positive papers)")
    axes.set_ylabel("F1")
    axes.set_ylim(0, 1.08)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.legend(loc="lower left")
    return _save(figure, path)


def plot_reliability(tables: dict[str, list[dict]], title: str, path: str | Path) -> Path:
    """Reliability diagram: each bin's share of positives against its mean probability.

    Args:
        tables: Curve name to :func:`~arxivcat.model.calibration.reliability` bins.
        title: The figure title.
        path: The PNG to write.
    """
    figure, axes = plt.subplots(figsize=(4.5, 4))
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for name, bins in tables.items():
        axes.plot([b["mean_probability"] for b in bins], [b["positive_share"] for b in bins],
                  marker="o", label=name)  # fmt: skip
    axes.set_xlabel("Mean predicted probability (validation)")
    axes.set_ylabel("Share of positives")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.legend(loc="upper left")
    return _save(figure, path)
