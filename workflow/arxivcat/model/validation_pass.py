"""The validation pass at each epoch's end, through the one inference path.

The Trainer's own evaluation loop pads batches in arrival order, runs the fp32 weights under
autocast and prints nothing for minutes.  :class:`ValidationPass` replaces it: the weights being
trained are copied to the inference precision and run through
:func:`~arxivcat.model.split_scoring.score_split` (length-sorted batches, progress lines), so the
numbers are the ones the evaluate stage would compute.  Each pass is saved in the checkpoint store
(:data:`LAST_PASS`); the pass of the kept weights ends in the model directory, where the evaluate
stage reuses it instead of scoring validation a second time.  With ``refit_heads`` the pass keeps
the pooled features its logits came from, and the refit of the last weights fits on them.  Under
DDP each process scores every ``world``-th row and the shares are gathered.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arxivcat.model.inference import PassStats, Placement, inference_copy
from arxivcat.model.launch import is_distributed, world_size
from arxivcat.model.metrics import pooled_metrics, threshold_metrics
from arxivcat.model.split_scoring import SplitPredictions, score_split, write_pass

logger = logging.getLogger(__name__)

#: The checkpoint store's copy of the latest validation pass.
LAST_PASS = "validation-last.parquet"


def _gather(share: SplitPredictions, rows: int, world: int) -> SplitPredictions:
    """Every process's share (rows ``rank::world``) put back in the split's order."""
    shares: list[Any] = [None] * world
    torch.distributed.all_gather_object(shares, share)
    ids: list[str] = [""] * rows
    labels = np.zeros((rows, *share.labels.shape[1:]), np.int64)
    probabilities = np.zeros((rows, *share.labels.shape[1:]), np.float64)
    weak = np.zeros(rows, bool)
    width = None if share.features is None else share.features.shape[1]
    features = None if width is None else np.zeros((rows, width), np.float32)
    stats = PassStats(placement=share.stats.placement)
    loss = 0.0
    for rank, part in enumerate(shares):
        for position, index in enumerate(range(rank, rows, world)):
            ids[index] = part.ids[position]
        labels[rank::world] = part.labels
        probabilities[rank::world] = part.probabilities
        weak[rank::world] = part.is_weak_negative
        if features is not None:
            features[rank::world] = part.features
        loss += part.loss * len(part.ids) / rows
        stats.rows += part.stats.rows
        stats.batches += part.stats.batches
        stats.real_tokens += part.stats.real_tokens
        stats.padded_tokens += part.stats.padded_tokens
        stats.seconds = max(stats.seconds, part.stats.seconds)
        stats.cpu_seconds += part.stats.cpu_seconds
    return SplitPredictions(
        share.name, ids, labels, probabilities, weak, loss, stats, share.heads, features
    )


class ValidationPass:
    """Scores the validation split for the Trainer, as the evaluate stage would.

    Args:
        split: The tokenized validation split (ids, labels and weak-negative flags included).
        placement: The inference placement of this process (its own GPU under DDP).
        batch_size: Rows per forward pass of each process.
        progress_seconds: Longest wait between two progress lines.
        store: The checkpoint store, where each pass is saved as :data:`LAST_PASS`.
        keep_features: Keep the latest pass, its pooled features included, in :attr:`latest`
            (process 0): the head refit after training fits on them rather than running the
            same weights over validation again.
    """

    def __init__(
        self,
        split: Any,
        placement: Placement,
        batch_size: int,
        progress_seconds: float,
        store: Path,
        keep_features: bool = False,
    ) -> None:
        self.split, self.placement, self.batch_size = split, placement, batch_size
        self.progress_seconds, self.store = progress_seconds, store
        self.keep_features = keep_features
        #: The training step of the latest kept pass, and that pass.
        self.latest: tuple[int, SplitPredictions] | None = None

    def run(self, model: torch.nn.Module, prefix: str = "eval", step: int = 0) -> dict[str, float]:
        """Score the split with ``model``'s current weights; return the Trainer's metrics.

        Process 0 saves the predictions to the store (and keeps them with ``step``, when asked
        to keep features).  The weights being trained are left as they were (a copy runs when
        the inference precision differs).
        """
        started = time.time()
        world = world_size() if is_distributed() else 1
        rank = torch.distributed.get_rank() if world > 1 else 0
        rows = len(self.split)
        share = self.split if world == 1 else self.split.select(range(rank, rows, world))
        scored = score_split(
            inference_copy(model, self.placement),
            share,
            self.batch_size,
            self.placement,
            "validation",
            self.progress_seconds,
            self.keep_features,
        )
        if world > 1:
            scored = _gather(scored, rows, world)
        if rank == 0:
            write_pass(scored, self.store / LAST_PASS)
            self.latest = (step, scored) if self.keep_features else None
        seconds = time.time() - started
        predicted = scored.probabilities > 0.5
        quality = (
            threshold_metrics(scored.labels, predicted)
            if scored.heads is None
            else pooled_metrics(scored.labels, predicted)
        )
        metrics = {
            "loss": scored.loss,
            **quality,
            "runtime": round(seconds, 4),
            "samples_per_second": round(rows / max(seconds, 1e-9), 3),
            "steps_per_second": round(scored.stats.batches / max(seconds, 1e-9), 3),
        }
        return {f"{prefix}_{key}": value for key, value in metrics.items()}
