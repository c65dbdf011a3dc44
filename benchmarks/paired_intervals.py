"""A multi-head card's paired intervals: every head at once against one head at a time.

A multi-head experiment's card gives each head's test F1 minus the frozen probe's and TF-IDF's
with its paired bootstrap interval (2,000 draws over the test papers).  Head by head
(:func:`arxivcat.model.metrics.f1_difference_interval`, as each head's own card) every head
draws its own Poisson weights for every test paper; :func:`~arxivcat.model.metrics.
f1_difference_intervals` draws them once for a pass of heads and sums them in one matrix
product per block of draws.  This times both on generated labels and decisions (``--papers``
test papers, ``--heads`` heads at 2% positives; one at a time on ``--sample`` of them), with one
BLAS thread as Snakemake gives the card's job, and checks that they give the same intervals.

Usage: PYTHONPATH=workflow python benchmarks/paired_intervals.py [--papers 161948] [--heads 150]
           [--sample 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from arxivcat.model.metrics import f1_difference_interval, f1_difference_intervals


def timed(function: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """The function's result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=161_948, help="test papers")
    parser.add_argument("--heads", type=int, default=150)
    parser.add_argument("--sample", type=int, default=3, help="heads timed one at a time")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    shape = (args.papers, args.heads)
    labels = rng.random(shape) < 0.02
    ours = np.where(rng.random(shape) < 0.9, labels, rng.random(shape) < 0.01)
    theirs = np.where(rng.random(shape) < 0.8, labels, rng.random(shape) < 0.01)
    with threadpool_limits(1):
        every, wall, cpu = timed(f1_difference_intervals, labels, ours, theirs)
        print(f"{args.heads} heads at once: {wall:.1f} s wall, {cpu:.1f} CPU s")
        one = [
            timed(f1_difference_interval, labels[:, k], ours[:, k], theirs[:, k])
            for k in range(args.sample)
        ]
    per_head = sum(cpu for _, _, cpu in one) / args.sample
    print(
        f"one head at a time: {per_head:.1f} CPU s a head, {per_head * args.heads:.0f} CPU s for "
        f"{args.heads} ({per_head * args.heads / cpu:.0f}x); the same intervals: "
        f"{[found for found, _, _ in one] == every[: args.sample]}"
    )


if __name__ == "__main__":
    main()
