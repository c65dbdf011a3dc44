"""Rule ``label_splits``: an experiment's labelled train/validation/test tables.

Given the split assignment (:mod:`arxivcat.splits.assign_splits`), :func:`build_experiment_data`
only labels: it joins the corpus to the assignment, marks positives (papers whose categories
meet the experiment's label set, or each head's for a multi-head experiment,
:mod:`arxivcat.splits.heads`), optionally subsamples the training papers, checks that every
split holds both classes (so that a doomed experiment stops here, before tokenizing and
training), mixes weak negatives into the training split, and writes the three tables and the
split report.

Duplicate ids (several versions of a paper) are collapsed to the row with the latest ``updated``
date. Papers without a year are dropped along with those before ``min_year``. Work is vectorised
(Arrow/NumPy) and the large text columns are streamed batch by batch, so a snapshot of millions of
papers needs little memory. The seed of the split definition drives every random choice: the
split itself, the ``sample_pct`` subsample and the weak-negative sample (separate streams).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arxivcat.io.atomic import write_text_atomic
from arxivcat.splits.assign_splits import SplitError, latest_versions, read_assignment_summary
from arxivcat.splits.experiment_tables import weak_table, write_tables
from arxivcat.splits.heads import EVERY_CATEGORY, every_category_heads, head_matrix
from arxivcat.splits.holdout import HELDOUT
from arxivcat.splits.labels import check_both_classes, positive_mask
from arxivcat.splits.methods import SPLITS, TRAIN
from arxivcat.splits.settings import LabellingSettings
from arxivcat.splits.split_report import Selection, add_corpus_rates, corpus_digest, split_report
from arxivcat.splits.table_schema import experiment_schema
from arxivcat.splits.weak_mixing import sample_rows, weak_negative_count

LOG = logging.getLogger(__name__)

_SAMPLE_STREAM, _WEAK_STREAM = 1, 2
#: Every split an assignment names, in code order: train, validation, test, then the held out.
ASSIGNED = (*SPLITS, HELDOUT)


def _subsample(rows: np.ndarray, pct: float, rng: np.random.Generator) -> np.ndarray:
    """``pct`` percent (floored, at least one) of ``rows``, drawn with ``rng``, in row order."""
    wanted = max(1, int(Fraction(str(pct)) / 100 * len(rows)))
    return rows[sample_rows(len(rows), min(wanted, len(rows)), rng)]


def assigned_rows(
    corpus: pa.Table, corpus_path: str | Path, assignment_path: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """The corpus rows the assignment places (ascending) and the split code of each.

    Of several versions of a paper, the one updated last is the paper's row.

    Raises:
        SplitError: If ids of the assignment are not in the corpus.
    """
    kept = latest_versions(corpus["id"], corpus["updated"])
    assignment = pq.read_table(assignment_path)
    kept_ids = corpus["id"].take(pa.array(kept))
    position = pc.index_in(kept_ids, value_set=assignment["id"])
    in_split = position.is_valid().to_numpy(zero_copy_only=False).astype(bool)
    if int(in_split.sum()) != assignment.num_rows:
        raise SplitError(
            f"{assignment_path}: {assignment.num_rows - int(in_split.sum())} of its "
            f"{assignment.num_rows} ids are not in {corpus_path}; was it made from another corpus?"
        )
    split_of_row = pc.index_in(
        assignment["split"].take(position.filter(in_split)), value_set=pa.array(ASSIGNED)
    ).to_numpy(zero_copy_only=False)
    return kept[in_split], split_of_row


def _keep(split_of_row: np.ndarray, sample_pct: float, seed: int) -> np.ndarray:
    """Which assigned papers the experiment uses: all, or ``sample_pct`` of the training ones."""
    keep = np.ones(len(split_of_row), dtype=bool)
    if sample_pct < 100:
        train_idx = np.flatnonzero(split_of_row == TRAIN)
        rng = np.random.default_rng([seed, _SAMPLE_STREAM])
        sampled = _subsample(train_idx, sample_pct, rng)
        keep[train_idx] = False
        keep[sampled] = True
    return keep


def _heads(
    papers: pa.Table, labelling: LabellingSettings, train: np.ndarray
) -> dict[str, tuple[str, ...]]:
    """A multi-head experiment's heads: as configured, or one per category with enough positives.

    Raises:
        SplitError: If ``every-category`` finds no category with enough positive training papers.
    """
    if labelling.heads != EVERY_CATEGORY:
        assert isinstance(labelling.heads, dict)
        return {name: tuple(labels) for name, labels in labelling.heads.items()}
    heads = every_category_heads(
        papers["categories"],
        papers["primary_category"],
        train,
        labelling.min_head_positives,
        labelling.label_mode,
    )
    if not heads:
        raise SplitError(
            f"heads every-category: no category has {labelling.min_head_positives} positive "
            f"training papers of {int(train.sum())}; lower min_head_positives"
        )
    return heads


def _label_matrix(
    papers: pa.Table, labelling: LabellingSettings, split_of_row: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, dict[str, tuple[str, ...]] | None, tuple[str, ...]]:
    """Positives (``[papers]``, or ``[papers, heads]``), the heads, and the heads left out.

    ``every-category`` heads whose validation or test split holds no positive are left out.
    """
    categories, primary = papers["categories"], papers["primary_category"]
    if labelling.heads is None:
        positive = positive_mask(categories, primary, labelling.labels, labelling.label_mode)
        return positive, None, ()
    heads = _heads(papers, labelling, (split_of_row == TRAIN) & keep)
    matrix = head_matrix(categories, primary, heads, labelling.label_mode)
    if labelling.heads != EVERY_CATEGORY:
        return matrix, heads, ()
    covered = np.ones(len(heads), dtype=bool)
    for code in range(len(SPLITS)):
        covered &= matrix[(split_of_row == code) & keep].any(axis=0)
    dropped = tuple(name for name, ok in zip(heads, covered, strict=True) if not ok)
    if dropped:
        LOG.warning("heads left out (a split holds no positive of theirs): %s", ", ".join(dropped))
    kept = {name: labels for name, labels in heads.items() if name not in dropped}
    return matrix[:, covered], kept, dropped


def _select(
    corpus: pa.Table,
    corpus_path: str | Path,
    assignment_path: str | Path,
    split: str | None,
    labelling: LabellingSettings,
    seed: int,
) -> Selection:
    """Label the assigned papers and subsample the training ones to ``sample_pct``.

    Raises:
        SplitError: If the assignment does not fit the corpus or no paper is a positive.
    """
    rows, split_of_row = assigned_rows(corpus, corpus_path, assignment_path)
    papers = corpus.take(pa.array(rows))
    keep = _keep(split_of_row, labelling.sample_pct, seed)
    positive, heads, dropped = _label_matrix(papers, labelling, split_of_row, keep)
    if not positive.any():
        labels, mode = labelling.labels or list(heads or {}), labelling.label_mode
        raise SplitError(
            f"labels {', '.join(labels)} ({mode}) match none of the {len(rows)} papers of "
            f"split {split!r} ({corpus.num_rows} corpus rows in {corpus_path})"
        )
    splits = {}
    for code, name in enumerate(ASSIGNED):
        chosen = (split_of_row == code) & keep
        splits[name] = (rows[chosen], positive[chosen].astype(np.int8))
    return Selection(papers, keep, splits, heads, dropped)


def build_experiment_data(
    corpus_path: str | Path,
    assignment_path: str | Path,
    weak_negatives_path: str | Path | None,
    output_paths: Mapping[str, str | Path],
    report_path: str | Path,
    experiment: str,
    labelling: LabellingSettings,
    digest_path: str | Path | None = None,
) -> dict[str, Any]:
    """Write an experiment's labelled train/validation/test tables and its split report.

    Before anything is written (and so before any tokenizing or training), every split must hold
    a positive and a negative paper (weak negatives count as training negatives): a model could
    learn or be measured on nothing else.

    Args:
        corpus_path: The corpus parquet file.
        assignment_path: The split assignment of the experiment's split definition.
        weak_negatives_path: The weak-negative table, or None when the share is 0.
        output_paths: Paths of the ``train``, ``validation`` and ``test`` tables, and of the
            ``heldout`` one (the split definition's newest papers; empty without a holdout).
        report_path: Path of the split report (JSON).
        experiment: The experiment's name (the rule's wildcard), for the report and messages.
        labelling: The label set, label mode, training sample and weak-negative share.
        digest_path: The corpus's sha256 file written with it by the download stage; without
            it the corpus file is hashed here.

    Returns:
        The split report (also written to ``report_path``).

    Raises:
        SplitError: If a split has no positive or no negative paper, the assignment does not fit
            the corpus, or weak negatives are asked for but missing or too few.
    """
    summary = read_assignment_summary(assignment_path)
    seed = int(summary["settings"]["seed"])
    share = labelling.weak_negatives
    columns = ["id", "categories", "primary_category", "updated", "year"]
    if share > 0:
        columns += ["title", "doi"]  # to keep arXiv papers out of the weak negatives
    corpus = pq.read_table(corpus_path, columns=columns)
    selection = _select(corpus, corpus_path, assignment_path, summary.get("split"), labelling, seed)
    n_train = len(selection.splits["train"][0])
    wanted = weak_negative_count(n_train, share)
    modelled = {name: selection.splits[name] for name in SPLITS}
    check_both_classes(
        experiment, summary.get("split"), labelling, modelled, wanted, selection.heads
    )
    rng = np.random.default_rng([seed, _WEAK_STREAM])
    schema = experiment_schema(list(selection.heads) if selection.heads else None)
    weak, pool = weak_table(weak_negatives_path, share, wanted, n_train, corpus, rng, schema)
    n_weak = 0 if weak is None else weak.num_rows

    LOG.info("experiment %s: writing tables (%d weak negatives)", experiment, n_weak)
    written = {name: rows for name, rows in selection.splits.items() if name in output_paths}
    write_tables(corpus_path, written, weak, output_paths, schema)
    digest = corpus_digest(corpus_path, digest_path)
    report = split_report(experiment, labelling, summary, corpus, selection, n_weak, pool, digest)
    add_corpus_rates(report, corpus, labelling, selection.heads)
    write_text_atomic(report_path, json.dumps(report, indent=2) + "\n")
    LOG.info(
        "experiment %s: %s",
        experiment,
        ", ".join(
            f"{s} {v['rows']} rows/{v['positives']} pos" for s, v in report["splits"].items()
        ),
    )
    return report
