"""An experiment's rows joined by id to its split's embeddings: the probe's features and labels.

The experiment's tables decide the rows (its ``sample_pct`` sample, its weak negatives, its labels
or heads); the embedding tables (rule ``embed``'s of the split and, for an experiment with weak
negatives, rule ``embed_weak_negatives``'s of the pool) give each row's vector, found by id among
the arXiv papers or among the weak negatives as the row's ``is_weak_negative`` says.  Only the rows
the experiment uses are read, one row group of an embedding table at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.splits.table_schema import column_matrix, table_heads


class ProbeDataError(ArxivcatError, ValueError):
    """Tables and embeddings that do not fit together, described in one line."""


@dataclass(frozen=True)
class SplitRows:
    """One split of the experiment: which rows, their labels and (once gathered) features.

    Attributes:
        ids: The rows' ids.
        weak: Whether each row is a weak negative.
        labels: ``[rows]`` (binary) or ``[rows, heads]``.
        features: ``[rows, dimension]`` float32 embeddings (empty until gathered).
    """

    ids: pa.Array
    weak: np.ndarray
    labels: np.ndarray
    features: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def read_table(path: str | Path) -> tuple[SplitRows, list[str] | None]:
    """The rows of one experiment table (no features yet) and its heads (None: binary).

    Raises:
        ProbeDataError: If the table is missing.
    """
    if not Path(path).is_file():
        raise ProbeDataError(f"{path}: experiment table not found")
    table = pq.read_table(path, columns=["id", "is_weak_negative", "label"])
    rows = SplitRows(
        ids=table["id"].combine_chunks(),
        weak=table["is_weak_negative"].to_numpy(zero_copy_only=False).astype(bool),
        labels=column_matrix(table["label"]).astype(np.int64),
        features=np.zeros((0, 0), np.float32),
    )
    return rows, table_heads(pq.read_schema(path))


def _positions(stored: pa.Table, rows: SplitRows, where: str) -> np.ndarray:
    """Each row's position in the embedding table (matched by id and kind).

    Raises:
        ProbeDataError: If a row has no embedding.
    """
    stored_weak = stored["weak_negative"].to_numpy(zero_copy_only=False).astype(bool)
    positions = np.full(len(rows), -1, dtype=np.int64)
    for kind in (False, True):
        mine, theirs = np.flatnonzero(rows.weak == kind), np.flatnonzero(stored_weak == kind)
        if not mine.size:
            continue
        found = pc.index_in(
            rows.ids.take(pa.array(mine)), value_set=stored["id"].take(pa.array(theirs))
        ).fill_null(-1)
        index = found.to_numpy(zero_copy_only=False).astype(np.int64)
        positions[mine] = np.where(index >= 0, theirs[np.maximum(index, 0)], -1)
    missing = np.flatnonzero(positions < 0)
    if missing.size:
        raise ProbeDataError(
            f"{where}: {missing.size} of {len(rows)} rows have no embedding (first: "
            f"{rows.ids[int(missing[0])].as_py()!r}); was the embedding made for another split?"
        )
    return positions


def gather(
    embeddings_paths: Sequence[str | Path], splits: Mapping[str, SplitRows]
) -> dict[str, SplitRows]:
    """``splits`` with each row's embedding, read one row group at a time.

    Args:
        embeddings_paths: The embedding tables, read as one (the split's, the pool's).
        splits: The rows of each split, without features.

    Raises:
        ProbeDataError: If a row has no embedding.
    """
    files = [pq.ParquetFile(path) for path in embeddings_paths]
    stored = pa.concat_tables(file.read(columns=["id", "weak_negative"]) for file in files)
    where_from = " + ".join(str(path) for path in embeddings_paths)
    positions = {
        name: _positions(stored, rows, f"{where_from} ({name})") for name, rows in splits.items()
    }
    dimension = files[0].schema_arrow.field("embedding").type.list_size
    features = {name: np.empty((len(rows), dimension), np.float32) for name, rows in splits.items()}
    start = 0
    for file in files:
        for group in range(file.num_row_groups):
            block = column_matrix(file.read_row_group(group, columns=["embedding"])["embedding"])
            end = start + len(block)
            for name, where in positions.items():
                inside = np.flatnonzero((where >= start) & (where < end))
                features[name][inside] = block[where[inside] - start]
            start = end
    return {
        name: SplitRows(rows.ids, rows.weak, rows.labels, features[name])
        for name, rows in splits.items()
    }
