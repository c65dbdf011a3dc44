"""The corpus table: its columns, the checks of its records, and writing it.

Every record reaches the corpus through :func:`write_tables` (snapshot, synthetic source, OAI
merge alike), so that is where :class:`RecordChecks` counts, and keeps or drops, the records
without an abstract and the categories that are not in the arXiv taxonomy
(``snapshot.missing_abstract`` and ``snapshot.unknown_categories`` in the config).  The counts go
into the corpus manifest (:meth:`RecordChecks.manifest`).  The checks are vectorised per table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arxivcat import taxonomy
from arxivcat.io.atomic import atomic_path

#: Columns of the normalized corpus.
CORPUS_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("abstract", pa.string(), nullable=False),
        pa.field("categories", pa.list_(pa.string()), nullable=False),
        pa.field("primary_category", pa.string(), nullable=False),
        pa.field("submitted", pa.date32()),
        pa.field("updated", pa.date32()),
        pa.field("year", pa.int16()),
        pa.field("doi", pa.string()),
    ]
)

FIELD_NAMES = tuple(CORPUS_SCHEMA.names)
_NAMES_LISTED = 20  # unknown category names the manifest lists, most frequent first


class RecordChecks:
    """Counts records without abstract and with unknown categories; keeps or drops them.

    ``missing_abstract``: ``keep`` (an empty abstract) or ``drop`` (the record).
    ``unknown_categories``: ``keep`` (as any category, possibly the primary one) or ``drop`` (the
    unknown categories are removed from the record, the first known one becomes its primary
    category; a record left with none is dropped).
    """

    def __init__(self, missing_abstract: str = "keep", unknown_categories: str = "keep") -> None:
        self.missing_abstract = missing_abstract
        self.unknown_categories = unknown_categories
        self.without_abstract = 0
        self.with_unknown = 0
        self.dropped_without_abstract = 0
        self.dropped_without_known = 0
        self.unknown_names: Counter[str] = Counter()

    def apply(self, table: pa.Table) -> pa.Table:
        """Count ``table``'s records and return it with the configured drops applied."""
        empty = pc.equal(pc.utf8_length(table["abstract"]), 0).to_numpy(zero_copy_only=False)
        self.without_abstract += int(empty.sum())
        if self.missing_abstract == "drop" and empty.any():
            self.dropped_without_abstract += int(empty.sum())
            table = table.filter(pa.array(~empty))
        categories = table["categories"].combine_chunks()
        flat = pc.list_flatten(categories)
        known_set = pa.array(sorted(taxonomy.CATEGORIES), pa.string())
        known = pc.is_in(flat, value_set=known_set).to_numpy(zero_copy_only=False)
        if known.all():
            return table
        parents = pc.list_parent_indices(categories).to_numpy()
        self.with_unknown += len(np.unique(parents[~known]))
        self.unknown_names.update(flat.filter(pa.array(~known)).to_pylist())
        if self.unknown_categories == "keep":
            return table
        return self._known_only(table, flat, parents, known)

    def _known_only(
        self, table: pa.Table, flat: pa.Array, parents: np.ndarray, known: np.ndarray
    ) -> pa.Table:
        """``table`` with only known categories; records left with none dropped."""
        counts = np.bincount(parents[known], minlength=table.num_rows)
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
        lists = pa.ListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(known)))
        table = table.set_column(
            FIELD_NAMES.index("categories"), CORPUS_SCHEMA.field("categories"), lists
        )
        some = counts > 0
        self.dropped_without_known += int((~some).sum())
        table = table.filter(pa.array(some))
        primary = pc.list_element(table["categories"], 0)
        return table.set_column(
            FIELD_NAMES.index("primary_category"),
            CORPUS_SCHEMA.field("primary_category"),
            primary,
        )

    def manifest(self) -> dict[str, Any]:
        """The counts, as the corpus manifest's ``record_checks`` entry."""
        return {
            "missing_abstract": {
                "records": self.without_abstract,
                "action": self.missing_abstract,
                "dropped": self.dropped_without_abstract,
            },
            "unknown_categories": {
                "records": self.with_unknown,
                "action": self.unknown_categories,
                "dropped": self.dropped_without_known,
                "categories": dict(self.unknown_names.most_common(_NAMES_LISTED)),
            },
        }


def columns_table(columns: Iterable[Sequence[Any]]) -> pa.Table:
    """A corpus table from its columns' values, in schema order."""
    return pa.Table.from_arrays(
        [
            pa.array(values, type=field.type)
            for field, values in zip(CORPUS_SCHEMA, columns, strict=True)
        ],
        schema=CORPUS_SCHEMA,
    )


def _row_tables(rows: Iterable[dict[str, Any]], batch_size: int) -> Iterator[pa.Table]:
    """Corpus tables of ``batch_size`` rows from row dicts, built column by column."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            yield columns_table([list(map(itemgetter(name), batch)) for name in FIELD_NAMES])
            batch.clear()
    if batch:
        yield columns_table([list(map(itemgetter(name), batch)) for name in FIELD_NAMES])


def write_tables(
    tables: Iterable[pa.Table], output: str | Path, checks: RecordChecks | None = None
) -> int:
    """Write corpus tables to a parquet file, one row group each; return the row count.

    With ``checks``, each table is counted and filtered by them first.  The file appears under
    its final name only once complete.
    """
    count = 0
    with (
        atomic_path(output) as partial,
        pq.ParquetWriter(partial, CORPUS_SCHEMA, compression="zstd") as writer,
    ):
        for table in tables:
            if checks is not None:
                table = checks.apply(table)
            if table.num_rows:
                writer.write_table(table)
                count += table.num_rows
    return count


def write_corpus(
    rows: Iterable[dict[str, Any]],
    output: str | Path,
    batch_size: int = 50_000,
    checks: RecordChecks | None = None,
) -> int:
    """Write corpus rows to a parquet file, streaming in batches; return the row count.

    The file appears under its final name only once complete.
    """
    return write_tables(_row_tables(rows, batch_size), output, checks)
