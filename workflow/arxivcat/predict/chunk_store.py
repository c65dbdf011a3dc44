"""Finished chunks of a prediction or embed job, kept outside its output so that it can resume.

Snakemake deletes a job's outputs before running it, so the chunks live in their own store
(``results/checkpoints/predict/<corpus>/<experiment>/``, ``results/checkpoints/embed/...``, as
training checkpoints do).  The store
holds ``fingerprint.json`` (model digest, input files, settings): a store made for anything else
is wiped instead of resumed.  Each chunk appears under its final name only once complete (so the
chunks of several processes may finish in any order), and the store is removed once the output is
written.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.io.atomic import atomic_path

logger = logging.getLogger(__name__)

FINGERPRINT = "fingerprint.json"


class ChunkStore:
    """The chunk files ``chunk-NNNNN.parquet`` of one prediction (or embed) job."""

    def __init__(self, directory: str | Path, fingerprint: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.fingerprint = fingerprint

    def path(self, index: int) -> Path:
        """The file of chunk ``index``."""
        return self.directory / f"chunk-{index:05d}.parquet"

    def open(self) -> frozenset[int]:
        """Prepare the store; return the indices of the chunks already finished in it."""
        marker = self.directory / FINGERPRINT
        wanted = json.dumps(self.fingerprint, sort_keys=True)
        if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
            done = frozenset(
                int(path.stem.removeprefix("chunk-"))
                for path in self.directory.glob("chunk-[0-9]*.parquet")
            )
            if done:
                logger.info("RESUMING: %d finished chunk(s) in %s", len(done), self.directory)
            return done
        if self.directory.exists():
            logger.info("chunk store %s was made for other inputs: starting over", self.directory)
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        marker.write_text(wanted, encoding="utf-8")
        return frozenset()

    def save(self, index: int, table: pa.Table) -> None:
        """Write chunk ``index`` (atomically)."""
        with atomic_path(self.path(index)) as partial:
            pq.write_table(table, partial)

    def tables(self, count: int) -> Iterator[pa.Table]:
        """The first ``count`` chunks, in order."""
        for index in range(count):
            yield pq.read_table(self.path(index))

    def remove(self) -> None:
        """Delete the store (the output is complete)."""
        shutil.rmtree(self.directory, ignore_errors=True)
