"""Rule ``assign_splits``: one train/validation/test assignment per split definition.

The assignment decides once, for a split definition, which papers are used and which split each
one is in; every experiment naming that definition shares the file.  Duplicate ids (several
versions of a paper) are collapsed to the row with the latest ``updated`` date; papers without a
year are dropped along with those before ``min_year``.  With ``holdout``, the newest papers go to
the ``heldout`` split (:mod:`arxivcat.splits.holdout`) before the method splits the rest.  The
split definition's seed drives the method's random choices, so equal inputs give equal outputs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path
from arxivcat.splits import holdout
from arxivcat.splits.methods import SPLITS, SplitMethodError, assign_codes, submission_days
from arxivcat.splits.settings import SplitSettings

LOG = logging.getLogger(__name__)

_METADATA_KEY = b"arxivcat.split"

#: Columns of the split assignment file.
ASSIGNMENT_SCHEMA = pa.schema(
    [pa.field("id", pa.string(), nullable=False), pa.field("split", pa.string(), nullable=False)]
)


class SplitError(ArxivcatError, ValueError):
    """A splits-stage problem, described in one line."""


def latest_versions(
    ids: pa.ChunkedArray | pa.Array, updated: pa.ChunkedArray | pa.Array
) -> np.ndarray:
    """Row numbers keeping one row per id: the latest ``updated`` (the later row on ties).

    Returns:
        The kept row numbers, ascending.
    """
    n = len(ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    # Hash-based group numbers (0..k-1 in order of first appearance) instead of a string sort.
    groups = pc.dictionary_encode(ids).indices.to_numpy(zero_copy_only=False)
    if int(groups.max()) + 1 == n:
        return np.arange(n, dtype=np.int64)  # no repeated id: the common case
    days = pc.cast(updated, pa.int32()).fill_null(np.iinfo(np.int32).min)
    days = np.asarray(days.to_numpy(zero_copy_only=False))
    order = np.lexsort((np.arange(n), days, groups))  # last of each group: latest, then later row
    last = np.ones(n, dtype=bool)
    last[:-1] = groups[order][1:] != groups[order][:-1]
    return np.sort(order[last])


def _split_counts(codes: np.ndarray) -> dict[str, int]:
    counts = np.bincount(codes.astype(np.int64), minlength=len(SPLITS))
    return {name: int(counts[i]) for i, name in enumerate(SPLITS)}


def _codes(
    papers: pa.Table, settings: SplitSettings, name: str
) -> tuple[np.ndarray, Any, dict[str, Any]]:
    """Each paper's split code (3 for held out), the method's assignment, the held-out facts.

    Raises:
        SplitError: If the holdout leaves no paper or the method cannot be applied.
    """
    days = submission_days(papers["submitted"].combine_chunks(), papers["year"].combine_chunks())
    first = holdout.cutoff(settings.holdout, days)
    newest = holdout.held_out(days, first)
    older = papers.filter(pa.array(~newest))
    if older.num_rows == 0:
        raise SplitError(f"split {name}: holdout from {first} holds out every one of its papers")
    try:
        assignment = assign_codes(
            older["id"].combine_chunks(),
            older["primary_category"].combine_chunks(),
            older["submitted"].combine_chunks(),
            older["year"].combine_chunks(),
            settings,
        )
    except SplitMethodError as error:
        raise SplitError(f"split {name}: {error}") from None
    codes = np.full(papers.num_rows, len(SPLITS), dtype=np.int64)
    codes[~newest] = assignment.codes
    return codes, assignment, holdout.describe(days, newest, first)


def assign_splits(
    corpus_path: str | Path,
    settings: SplitSettings,
    output_path: str | Path,
    name: str,
) -> dict[str, Any]:
    """Assign every paper of the corpus that passes the year filter to train/validation/test.

    Args:
        corpus_path: The corpus parquet file (:data:`arxivcat.data.corpus.CORPUS_SCHEMA`).
        settings: The split definition.
        output_path: Where the assignment (id, split), sorted by id, is written.
        name: The split definition's name, recorded in the file's metadata and the summary.

    Returns:
        A summary: corpus rows, duplicates collapsed, papers dropped by the year filter, papers
        per split, plus method details (e.g. the time split's first test date).

    Raises:
        SplitError: If no paper passes the year filter or the method cannot be applied.
    """
    corpus = pq.read_table(
        corpus_path, columns=["id", "primary_category", "submitted", "updated", "year"]
    )
    kept = latest_versions(corpus["id"], corpus["updated"])
    papers = corpus.take(pa.array(kept))
    in_years = pc.greater_equal(papers["year"], settings.min_year).fill_null(False)
    selected = papers.filter(in_years).sort_by([("id", "ascending")])
    if selected.num_rows == 0:
        raise SplitError(
            f"{corpus_path}: no paper of {papers.num_rows} is from {settings.min_year} or later"
        )
    codes, assignment, held = _codes(selected, settings, name)
    splits = pa.array([*SPLITS, holdout.HELDOUT]).take(pa.array(codes))
    summary = {
        "split": name,
        "settings": settings.to_dict(),
        "corpus_rows": corpus.num_rows,
        "duplicates_collapsed": corpus.num_rows - papers.num_rows,
        "dropped_by_year": papers.num_rows - selected.num_rows,
        "papers": selected.num_rows,
        "splits": _split_counts(assignment.codes),
        holdout.HELDOUT: held,
        **assignment.details,
    }
    metadata = {_METADATA_KEY: json.dumps(summary, sort_keys=True).encode()}
    table = pa.table(
        [selected["id"].combine_chunks(), splits], schema=ASSIGNMENT_SCHEMA.with_metadata(metadata)
    )
    with atomic_path(output_path) as partial:
        pq.write_table(table, partial, compression="zstd")
    LOG.info(
        "split %s: %d papers (%s, %d held out); %d duplicate rows collapsed, %d before %d dropped",
        name,
        selected.num_rows,
        ", ".join(f"{k} {v}" for k, v in summary["splits"].items()),
        held["papers"],
        summary["duplicates_collapsed"],
        summary["dropped_by_year"],
        settings.min_year,
    )
    return summary


def read_assignment_summary(path: str | Path) -> dict[str, Any]:
    """The summary :func:`assign_splits` stored in an assignment file's metadata."""
    metadata = pq.read_schema(path).metadata or {}
    if _METADATA_KEY not in metadata:
        raise SplitError(f"{path}: not a split assignment written by arxivcat (no metadata)")
    return json.loads(metadata[_METADATA_KEY])
