"""The papers an embedding holds, read chunk by chunk.

A split definition's embedding holds every paper that an experiment on the split can put in its
tables: the assignment's papers (the latest version of each, as
:func:`~arxivcat.splits.label_splits.assigned_rows` picks them for the experiment tables), in
corpus order.  The weak-negative pool has an embedding of its own, shared by every split
definition (so that an experiment without weak negatives never waits for them): the pool the
experiments draw from (:func:`~arxivcat.splits.weak_mixing.clean_candidates`: arXiv papers and
repeats removed), in id order.  The texts are those the experiment tables hold, so the embedding
the probe joins by id is that of the row it labels.  The corpus text is streamed: a chunk's texts
are all that is held of it at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.splits.label_splits import assigned_rows
from arxivcat.splits.weak_mixing import clean_candidates

# Corpus rows decoded at a time while looking for the assigned ones.
_READ_BATCH = 16_384


@dataclass(frozen=True)
class PaperChunk:
    """Papers embedded and saved together.

    Attributes:
        ids: Their ids.
        titles: Their titles.
        abstracts: Their abstracts.
        weak_negative: Whether they are weak negatives (not arXiv papers).
    """

    ids: list[str]
    titles: list[str]
    abstracts: list[str]
    weak_negative: bool

    def __len__(self) -> int:
        return len(self.ids)


class SplitPapers:
    """The papers of one split definition.

    Args:
        corpus_path: The corpus parquet file.
        assignment_path: The split definition's assignment.

    Raises:
        SplitError: If the assignment does not fit the corpus.
    """

    weak_negative = False

    def __init__(self, corpus_path: str | Path, assignment_path: str | Path) -> None:
        self.corpus_path = Path(corpus_path)
        corpus = pq.read_table(corpus_path, columns=["id", "updated"])
        self.rows, _ = assigned_rows(corpus, corpus_path, assignment_path)
        self.ids = corpus["id"].take(pa.array(self.rows)).combine_chunks()

    def __len__(self) -> int:
        return len(self.ids)

    def chunks(self, chunk_rows: int) -> Iterator[PaperChunk]:
        """The papers in chunks of ``chunk_rows``."""
        yield from self._corpus_chunks(chunk_rows)

    def _corpus_chunks(self, chunk_rows: int) -> Iterator[PaperChunk]:
        """The assigned papers' texts, streamed from the corpus, in chunks of ``chunk_rows``."""
        titles: list[str] = []
        abstracts: list[str] = []
        taken = offset = 0
        corpus = pq.ParquetFile(self.corpus_path)
        columns = ["title", "abstract"]
        for batch in corpus.iter_batches(_READ_BATCH, columns=columns, use_threads=False):
            end = offset + batch.num_rows
            stop = int(np.searchsorted(self.rows, end))
            if stop > taken:
                part = batch.take(pa.array(self.rows[taken:stop] - offset))
                titles += part["title"].to_pylist()
                abstracts += part["abstract"].to_pylist()
            taken, offset = stop, end
            while len(titles) >= chunk_rows:
                yield self._chunk(titles, abstracts, chunk_rows, taken)
        if titles:
            yield self._chunk(titles, abstracts, len(titles), taken)

    def _chunk(self, titles: list[str], abstracts: list[str], size: int, taken: int) -> PaperChunk:
        """The first ``size`` buffered papers as a chunk (removed from the buffers)."""
        first = taken - len(titles)
        ids = self.ids.slice(first, size).to_pylist()
        chunk = PaperChunk(ids, titles[:size], abstracts[:size], weak_negative=False)
        del titles[:size], abstracts[:size]
        return chunk


class WeakNegativePapers:
    """The weak-negative pool: the candidates the experiments' weak negatives are drawn from.

    Args:
        corpus_path: The corpus parquet file (its titles and DOIs leave arXiv papers out).
        weak_negatives_path: The weak-negative table.
    """

    weak_negative = True

    def __init__(self, corpus_path: str | Path, weak_negatives_path: str | Path) -> None:
        known = pq.read_table(corpus_path, columns=["title", "doi"])
        pool = clean_candidates(pq.read_table(weak_negatives_path), known["title"], known["doi"])
        self.table = pool.table.select(["id", "title", "abstract"])

    def __len__(self) -> int:
        return self.table.num_rows

    def chunks(self, chunk_rows: int) -> Iterator[PaperChunk]:
        """The pool in chunks of ``chunk_rows``."""
        for start in range(0, self.table.num_rows, chunk_rows):
            part = self.table.slice(start, chunk_rows)
            yield PaperChunk(
                [str(i) for i in part["id"].to_pylist()],
                part["title"].to_pylist(),
                part["abstract"].to_pylist(),
                weak_negative=True,
            )
