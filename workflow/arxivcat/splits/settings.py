"""Settings of the splits stage: a split definition, and what labels an experiment's papers.

Keys, meanings and defaults are those of ``config/schema.yaml``: :class:`SplitSettings` is one
block under ``splits``, :class:`LabellingSettings` the keys of an experiment that decide its
labels and training rows (the rule ``label_splits`` passes them as its ``labelling`` params).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from arxivcat.stage_settings import StageSettings


@dataclass(frozen=True)
class SplitSettings(StageSettings):
    """One split definition (``splits.<name>``).

    Attributes:
        min_year: Papers first submitted before this year are dropped.
        fractions: Shares of ``train``, ``validation`` and ``test`` (summing to 1).
        seed: Seed of every random choice of the stage (split, subsample, weak-negative sample).
        method: ``stratified``, ``hash`` or ``time`` (see :mod:`arxivcat.splits.methods`).
        holdout: The newest papers held out of every split: ``{"from": "YYYY-MM-DD"}``,
            ``{"months": N}`` or None (see :mod:`arxivcat.splits.holdout`).
    """

    min_year: int
    fractions: dict[str, float]
    seed: int
    method: str
    holdout: dict[str, str | int] | None


@dataclass(frozen=True)
class LabellingSettings(StageSettings):
    """What decides an experiment's labels and training rows (keys of ``experiments.<name>``).

    Attributes:
        labels: The label set of a binary experiment (canonical arXiv categories); empty for a
            multi-head one.
        weak_negatives: Weak negatives added to training, as a share of its arXiv papers.
        label_mode: ``any`` (a paper with any listed category is positive) or ``primary``.
        sample_pct: Percentage of the training split's arXiv papers kept.
        heads: A multi-head experiment's heads (name to canonical categories), or
            ``every-category`` (:mod:`arxivcat.splits.heads`); None for a binary experiment.
        min_head_positives: With ``every-category``: least positive training papers of a head.
    """

    labels: tuple[str, ...]
    weak_negatives: float
    label_mode: str
    sample_pct: float
    heads: Mapping[str, tuple[str, ...]] | str | None
    min_head_positives: int
