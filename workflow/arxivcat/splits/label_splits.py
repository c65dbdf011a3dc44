"""Rule ``label_splits``: an experiment's labelled train/validation/test tables.

Given the split assignment (:mod:`arxivcat.splits.assign_splits`), :func:`build_experiment_data`
only labels: it joins the corpus to the assignment, marks positives (papers whose categories
meet the experiment's label set), optionally subsamples the training papers, checks that every
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

import contextlib
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

from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.checksums import file_sha256
from arxivcat.splits.assign_splits import SplitError, latest_versions, read_assignment_summary
from arxivcat.splits.labels import check_both_classes, positive_mask
from arxivcat.splits.methods import SPLITS, TRAIN
from arxivcat.splits.settings import LabellingSettings
from arxivcat.splits.weak_mixing import (
    WeakMixingError,
    clean_candidates,
    sample_rows,
    weak_negative_count,
)

LOG = logging.getLogger(__name__)

#: Columns of an experiment's train/validation/test tables.
EXPERIMENT_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("abstract", pa.string(), nullable=False),
        pa.field("label", pa.int8(), nullable=False),
        pa.field("primary_category", pa.string()),
        pa.field("year", pa.int16()),
        pa.field("is_weak_negative", pa.bool_(), nullable=False),
    ]
)

_SAMPLE_STREAM, _WEAK_STREAM = 1, 2
_TEXT_BATCH = 65_536
# The experiment tables hold the corpus text once per experiment and are read once (tokenize):
# snappy writes about four times faster than zstd; dictionaries only pay for the category.
_TABLE_OPTIONS = {"compression": "snappy", "use_dictionary": ["primary_category"]}


def _subsample(rows: np.ndarray, pct: float, rng: np.random.Generator) -> np.ndarray:
    """``pct`` percent (floored, at least one) of ``rows``, drawn with ``rng``, in row order."""
    wanted = max(1, int(Fraction(str(pct)) / 100 * len(rows)))
    return rows[sample_rows(len(rows), min(wanted, len(rows)), rng)]


def _weak_table(
    weak_negatives_path: str | Path | None,
    share: float,
    wanted: int,
    n_train: int,
    corpus: pa.Table,
    rng: np.random.Generator,
) -> tuple[pa.Table | None, dict[str, int]]:
    """The ``wanted`` weak negatives (in the experiment table's schema) and pool statistics."""
    if share <= 0:
        return None, {"wanted": 0}
    if weak_negatives_path is None:
        raise SplitError(f"weak-negative share {share} asked for, but no weak-negative file given")
    weak = pq.read_table(weak_negatives_path)
    if weak.num_rows == 0:
        raise SplitError(
            f"{weak_negatives_path}: no weak negatives, but a share of {share} was asked for"
        )
    pool = clean_candidates(weak, corpus["title"], corpus["doi"])
    stats = {
        "wanted": wanted,
        "offered": pool.offered,
        "removed_untitled": pool.untitled,
        "removed_as_arxiv": pool.arxiv_overlap,
        "removed_as_repeats": pool.repeats,
        "available": pool.table.num_rows,
    }
    try:
        chosen = sample_rows(pool.table.num_rows, wanted, rng)
    except WeakMixingError:
        raise SplitError(
            f"{weak_negatives_path}: {wanted} weak negatives needed ({share} x {n_train} training "
            f"papers), only {pool.table.num_rows} of {pool.offered} are usable "
            f"({pool.arxiv_overlap} are arXiv papers, {pool.repeats} repeats, "
            f"{pool.untitled} untitled)"
        ) from None
    picked = pool.table.take(pa.array(chosen))
    n = picked.num_rows
    if "year" in picked.column_names:
        years = picked["year"].cast(pa.int16())
    else:
        years = pa.nulls(n, pa.int16())
    table = pa.table(
        [
            picked["id"].cast(pa.string()),
            picked["title"].cast(pa.string()).fill_null(""),
            picked["abstract"].cast(pa.string()).fill_null(""),
            pa.array(np.zeros(n, dtype=np.int8)),
            pa.nulls(n, pa.string()),
            years,
            pa.array(np.ones(n, dtype=bool)),
        ],
        schema=EXPERIMENT_SCHEMA,
    )
    return table, stats


def _write_tables(
    corpus_path: str | Path,
    selections: dict[str, tuple[np.ndarray, np.ndarray]],
    weak: pa.Table | None,
    output_paths: Mapping[str, str | Path],
) -> None:
    """Stream the corpus once and write each split's selected rows (and weak negatives to train).

    ``selections`` maps a split name to (ascending corpus row numbers, labels).
    """
    with contextlib.ExitStack() as stack:
        writers = {
            split: stack.enter_context(
                pq.ParquetWriter(
                    stack.enter_context(atomic_path(output_paths[split])),
                    EXPERIMENT_SCHEMA,
                    **_TABLE_OPTIONS,
                )
            )
            for split in SPLITS
        }
        columns = ["id", "title", "abstract", "primary_category", "year"]
        offset = 0
        # One thread: this loop is bound by decoding, and jobs run side by side in the workflow.
        corpus = pq.ParquetFile(corpus_path)
        for batch in corpus.iter_batches(_TEXT_BATCH, columns=columns, use_threads=False):
            end = offset + batch.num_rows
            for split, (rows, labels) in selections.items():
                lo, hi = np.searchsorted(rows, [offset, end])
                if hi == lo:
                    continue
                part = batch.take(pa.array(rows[lo:hi] - offset))
                writers[split].write_table(
                    pa.table(
                        [
                            part["id"],
                            part["title"],
                            part["abstract"],
                            pa.array(labels[lo:hi]),
                            part["primary_category"],
                            part["year"],
                            pa.array(np.zeros(hi - lo, dtype=bool)),
                        ],
                        schema=EXPERIMENT_SCHEMA,
                    )
                )
            offset = end
        if weak is not None and weak.num_rows:
            writers["train"].write_table(weak)


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
        output_paths: Paths of the ``train``, ``validation`` and ``test`` tables.
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
    settings = summary["settings"]
    seed = int(settings["seed"])
    labels, label_mode = labelling.labels, labelling.label_mode
    sample_pct, weak_negative_share = labelling.sample_pct, labelling.weak_negatives

    columns = ["id", "categories", "primary_category", "updated", "year"]
    if weak_negative_share > 0:
        columns += ["title", "doi"]  # to keep arXiv papers out of the weak negatives
    corpus = pq.read_table(corpus_path, columns=columns)
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
    rows = kept[in_split]
    split_of_row = pc.index_in(
        assignment["split"].take(position.filter(in_split)), value_set=pa.array(SPLITS)
    ).to_numpy(zero_copy_only=False)

    papers = corpus.take(pa.array(rows))
    positive = positive_mask(papers["categories"], papers["primary_category"], labels, label_mode)
    if not positive.any():
        raise SplitError(
            f"labels {', '.join(labels)} ({label_mode}) match none of the {len(rows)} papers of "
            f"split {summary.get('split')!r} ({corpus.num_rows} corpus rows in {corpus_path})"
        )

    keep = np.ones(len(rows), dtype=bool)
    if sample_pct < 100:
        train_idx = np.flatnonzero(split_of_row == TRAIN)
        sampled = _subsample(train_idx, sample_pct, np.random.default_rng([seed, _SAMPLE_STREAM]))
        keep[train_idx] = False
        keep[sampled] = True
    selections = {}
    for code, split in enumerate(SPLITS):
        chosen = (split_of_row == code) & keep
        selections[split] = (rows[chosen], positive[chosen].astype(np.int8))
    n_train = len(selections["train"][0])
    wanted = weak_negative_count(n_train, weak_negative_share)
    check_both_classes(experiment, summary.get("split"), labelling, selections, wanted)
    weak, pool = _weak_table(
        weak_negatives_path,
        weak_negative_share,
        wanted,
        n_train,
        corpus,
        np.random.default_rng([seed, _WEAK_STREAM]),
    )
    n_weak = 0 if weak is None else weak.num_rows

    LOG.info("experiment %s: writing tables (%d weak negatives)", experiment, n_weak)
    _write_tables(corpus_path, selections, weak, output_paths)

    years = papers["year"].filter(pa.array(keep))
    year_min_max = pc.min_max(years)
    top = pc.value_counts(papers["primary_category"].filter(pa.array(keep))).to_pylist()
    top.sort(key=lambda entry: (-entry["counts"], entry["values"]))
    split_stats = {}
    for split, (split_rows, split_labels) in selections.items():
        extra = n_weak if split == "train" else 0
        total = len(split_rows) + extra
        positives = int(split_labels.sum())
        split_stats[split] = {
            "rows": total,
            "papers": len(split_rows),
            "positives": positives,
            "positive_rate": round(positives / total, 6) if total else 0.0,
            "weak_negatives": extra,
        }
    report = {
        "experiment": experiment,
        "labels": list(labels),
        "label_mode": label_mode,
        "split": summary.get("split"),
        "split_settings": settings,
        "snapshot_sha256": _corpus_digest(corpus_path, digest_path),
        "snapshot_date": _iso(pc.max(corpus["updated"]).as_py()),
        "year_range": [year_min_max["min"].as_py(), year_min_max["max"].as_py()],
        "sample_pct": sample_pct,
        "weak_negative_share": weak_negative_share,
        "weak_negatives": n_weak,
        "weak_negative_pool": pool,
        "splits": split_stats,
        "top_primary_categories": [[e["values"], e["counts"]] for e in top[:10]],
    }
    write_text_atomic(report_path, json.dumps(report, indent=2) + "\n")
    LOG.info(
        "experiment %s: %s",
        experiment,
        ", ".join(f"{s} {v['rows']} rows/{v['positives']} pos" for s, v in split_stats.items()),
    )
    return report


def _corpus_digest(corpus_path: str | Path, digest_path: str | Path | None) -> str:
    """The corpus's sha256: from its digest file when given (it holds only the digest)."""
    if digest_path is None:
        return file_sha256(corpus_path)
    digest = Path(digest_path).read_text(encoding="utf-8").split()
    if len(digest) != 1 or len(digest[0]) != 64:
        raise SplitError(f"{digest_path}: expected one sha256 hex digest")
    return digest[0]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
