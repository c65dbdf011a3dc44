"""One table of every experiment's scores on a corpus (rule ``join_predictions``).

The experiments' prediction tables list the same papers in the same order (the corpus order), so
they are joined side by side, streamed in record batches: memory stays flat.  The result has
``id`` and one probability column per experiment, named after it, or per head of a multi-head
experiment, named ``<experiment>:<head>`` (null where a paper has no text).  Names of experiments
and heads hold no ``:``, so no two columns can be confused.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path

logger = logging.getLogger(__name__)

_BATCH = 65536


class JoinError(ArxivcatError, ValueError):
    """Prediction tables that do not list the same papers."""


def _aligned(paths: list[Path]) -> Iterator[list[pa.RecordBatch]]:
    """Equal-length slices of every table, in lockstep (row groups need not coincide)."""
    readers = [pq.ParquetFile(p).iter_batches(batch_size=_BATCH) for p in paths]
    pending: list[pa.RecordBatch | None] = [None] * len(paths)
    while True:
        for i, reader in enumerate(readers):
            while pending[i] is None or len(pending[i]) == 0:
                pending[i] = next(reader, None)
                if pending[i] is None:
                    break
        if any(batch is None for batch in pending):
            if not all(batch is None for batch in pending):
                raise JoinError(f"{', '.join(map(str, paths))}: tables of different lengths")
            return
        size = min(len(batch) for batch in pending)  # type: ignore[arg-type]
        yield [batch.slice(0, size) for batch in pending]  # type: ignore[union-attr]
        pending = [batch.slice(size) for batch in pending]  # type: ignore[union-attr]


def _probability_columns(experiment: str, path: Path) -> dict[str, str]:
    """An experiment table's probability columns and their names in the joined table."""
    names = pq.read_schema(path).names
    if "probability" in names:
        return {"probability": experiment}
    return {
        name: f"{experiment}:{name.split(':', 1)[1]}"
        for name in names
        if name.startswith("probability:")
    }


def join_predictions(predictions: dict[str, str | Path], output_path: str | Path) -> int:
    """Write ``id`` plus one probability column per experiment; return the number of papers.

    Args:
        predictions: Experiment name -> its prediction table on the corpus.
        output_path: The joined table.

    Raises:
        JoinError: If the tables do not list the same papers in the same order.
    """
    names = list(predictions)
    paths = [Path(predictions[name]) for name in names]
    sources = [_probability_columns(name, path) for name, path in zip(names, paths, strict=True)]
    schema = pa.schema(
        [("id", pa.string())] + [(out, pa.float64()) for cols in sources for out in cols.values()]
    )
    rows = 0
    with atomic_path(output_path) as partial, pq.ParquetWriter(partial, schema) as writer:
        for batches in _aligned(paths):
            ids = batches[0].column("id")
            for name, batch in zip(names[1:], batches[1:], strict=True):
                if not batch.column("id").equals(ids):
                    raise JoinError(f"{predictions[name]}: papers differ from {paths[0]}")
            columns = [ids] + [
                batch.column(column)
                for batch, cols in zip(batches, sources, strict=True)
                for column in cols
            ]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            rows += len(ids)
    logger.info("%d papers x %d experiments joined into %s", rows, len(names), output_path)
    return rows
