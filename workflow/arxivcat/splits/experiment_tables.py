"""The experiment tables: their columns, the weak negatives mixed into train, the writing pass.

:func:`weak_table` draws the weak negatives of an experiment from the cleaned pool (arXiv papers
and repeats removed, :mod:`arxivcat.splits.weak_mixing`); :func:`write_tables` streams the corpus
once and writes each split's labelled papers (and the weak negatives, to train).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.io.atomic import atomic_path
from arxivcat.splits.assign_splits import SplitError
from arxivcat.splits.table_schema import EXPERIMENT_SCHEMA, label_array
from arxivcat.splits.weak_mixing import WeakMixingError, clean_candidates, sample_rows

_TEXT_BATCH = 65_536
# The experiment tables hold the corpus text once per experiment and are read once (tokenize):
# snappy writes about four times faster than zstd; dictionaries only pay for the category.
_TABLE_OPTIONS = {"compression": "snappy", "use_dictionary": ["primary_category"]}


def _zero_labels(rows: int, schema: pa.Schema) -> pa.Array:
    """Negative labels for ``rows`` weak negatives (for every head)."""
    kind = schema.field("label").type
    shape = (rows, kind.list_size) if isinstance(kind, pa.FixedSizeListType) else (rows,)
    return label_array(np.zeros(shape, dtype=np.int8), schema)


def weak_table(
    weak_negatives_path: str | Path | None,
    share: float,
    wanted: int,
    n_train: int,
    corpus: pa.Table,
    rng: np.random.Generator,
    schema: pa.Schema = EXPERIMENT_SCHEMA,
) -> tuple[pa.Table | None, dict[str, int]]:
    """The ``wanted`` weak negatives (in the experiment table's ``schema``) and pool statistics.

    A weak negative is negative for every head of a multi-head experiment.
    """
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
            _zero_labels(n, schema),
            pa.nulls(n, pa.string()),
            years,
            pa.array(np.ones(n, dtype=bool)),
        ],
        schema=schema,
    )
    return table, stats


def write_tables(
    corpus_path: str | Path,
    selections: dict[str, tuple[np.ndarray, np.ndarray]],
    weak: pa.Table | None,
    output_paths: Mapping[str, str | Path],
    schema: pa.Schema = EXPERIMENT_SCHEMA,
) -> None:
    """Stream the corpus once and write each split's selected rows (and weak negatives to train).

    ``selections`` maps a split name to (ascending corpus row numbers, labels); ``schema`` is
    :func:`experiment_schema` of the experiment's heads.
    """
    with contextlib.ExitStack() as stack:
        writers = {
            split: stack.enter_context(
                pq.ParquetWriter(
                    stack.enter_context(atomic_path(output_paths[split])),
                    schema,
                    **_TABLE_OPTIONS,
                )
            )
            for split in selections
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
                            label_array(labels[lo:hi], schema),
                            part["primary_category"],
                            part["year"],
                            pa.array(np.zeros(hi - lo, dtype=bool)),
                        ],
                        schema=schema,
                    )
                )
            offset = end
        if weak is not None and weak.num_rows:
            writers["train"].write_table(weak)
