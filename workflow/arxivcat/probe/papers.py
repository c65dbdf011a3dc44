"""The papers a split definition's embedding holds, read chunk by chunk.

Every paper that an experiment on the split can put in its tables: the assignment's papers (the
latest version of each, as :func:`~arxivcat.splits.label_splits.assigned_rows` picks them for the
experiment tables), in corpus order; then, when an experiment on the split adds weak negatives,
the pool they are drawn from (:func:`~arxivcat.splits.weak_mixing.clean_candidates`: arXiv papers
and repeats removed), in id order.  The texts are those the experiment tables hold, so the
embedding the probe joins by id is that of the row it labels.  The corpus text is streamed: a
chunk's texts are all that is held of it at a time.
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
    """The papers of one split definition (and its weak-negative pool).

    Args:
        corpus_path: The corpus parquet file.
        assignment_path: The split definition's assignment.
        weak_negatives_path: The weak-negative table, when an experiment on the split adds them.

    Raises:
        SplitError: If the assignment does not fit the corpus.
    """

    def __init__(
        self,
        corpus_path: str | Path,
        assignment_path: str | Path,
        weak_negatives_path: str | Path | None = None,
    ) -> None:
        self.corpus_path = Path(corpus_path)
        corpus = pq.read_table(corpus_path, columns=["id", "updated"])
        self.rows, _ = assigned_rows(corpus, corpus_path, assignment_path)
        self.ids = corpus["id"].take(pa.array(self.rows)).combine_chunks()
        self.weak: pa.Table | None = None
        if weak_negatives_path is not None:
            known = pq.read_table(corpus_path, columns=["title", "doi"])
            weak = pq.read_table(weak_negatives_path)
            pool = clean_candidates(weak, known["title"], known["doi"])
            self.weak = pool.table.select(["id", "title", "abstract"])

    @property
    def weak_negatives(self) -> int:
        """Weak negatives in the pool (0 without one)."""
        return 0 if self.weak is None else self.weak.num_rows

    def __len__(self) -> int:
        return len(self.ids) + self.weak_negatives

    def chunks(self, chunk_rows: int) -> Iterator[PaperChunk]:
        """The papers in chunks of ``chunk_rows`` (the split's, then the weak negatives')."""
        yield from self._corpus_chunks(chunk_rows)
        if self.weak is not None:
            for start in range(0, self.weak.num_rows, chunk_rows):
                part = self.weak.slice(start, chunk_rows)
                yield PaperChunk(
                    [str(i) for i in part["id"].to_pylist()],
                    part["title"].to_pylist(),
                    part["abstract"].to_pylist(),
                    weak_negative=True,
                )

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
