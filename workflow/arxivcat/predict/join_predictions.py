"""One table of every experiment's scores on a corpus (rule ``join_predictions``).

The experiments' prediction tables list the same papers in the same order (the corpus order), so
they are joined side by side, streamed in record batches: memory stays flat.  The result has
``id`` and one probability column per experiment, named after it (null where a paper has no text).
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
    schema = pa.schema([("id", pa.string())] + [(name, pa.float64()) for name in names])
    rows = 0
    with atomic_path(output_path) as partial, pq.ParquetWriter(partial, schema) as writer:
        for batches in _aligned(paths):
            ids = batches[0].column("id")
            for name, batch in zip(names[1:], batches[1:], strict=True):
                if not batch.column("id").equals(ids):
                    raise JoinError(f"{predictions[name]}: papers differ from {paths[0]}")
            columns = [ids] + [batch.column("probability") for batch in batches]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema))
            rows += len(ids)
    logger.info("%d papers x %d experiments joined into %s", rows, len(names), output_path)
    return rows
