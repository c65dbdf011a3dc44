"""What one scoring process of a prediction job does: its share of the corpus's chunks.

A job is run by one process, or by one process per GPU (:mod:`arxivcat.predict.spread`); process
``rank`` of ``processes`` takes the chunks whose index is ``rank`` modulo ``processes`` and saves
each to the job's chunk store as it finishes.  Every process reads the whole corpus (reading is
cheap beside scoring) so that the chunks, and so the output, are the same whatever the number of
processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from arxivcat.errors import ArxivcatError
from arxivcat.model.calibration import scale
from arxivcat.predict.chunk_store import ChunkStore
from arxivcat.predict.read_papers import PaperChunk, iter_chunks
from arxivcat.predict.scoring import Classifier, score_papers
from arxivcat.predict.settings import PredictSettings


def prediction_schema(heads: tuple[str, ...] | None = None) -> pa.Schema:
    """The output's columns: ``id``, then ``probability`` and ``label``.

    A multi-head model has ``probability:<head>`` and ``label:<head>`` for each head.
    """
    names = (
        [("probability", "label")]
        if heads is None
        else [(f"probability:{head}", f"label:{head}") for head in heads]
    )
    fields = [("id", pa.string())]
    for probability, label in names:
        fields += [(probability, pa.float64()), (label, pa.int8())]
    return pa.schema(fields)


class PredictError(ArxivcatError, RuntimeError):
    """A prediction job that cannot go on, described in one line."""


@dataclass(frozen=True)
class ScoringJob:
    """Everything a scoring process needs (picklable, for processes started by spawn).

    Attributes:
        model_dir: The model folder.
        files: The corpus files, in order.
        settings: The predict settings.
        thresholds: The label threshold of each head (one for a 2-way classifier).
        temperatures: Each head's temperature (None: the model's probabilities as they are).
        heads: A multi-head model's heads; None for a 2-way classifier.
        store_dir: The chunk store's directory.
        fingerprint: The chunk store's fingerprint.
        finished: Indices of the chunks already in the store.
        rows_without_text: ``keep`` (null score) or ``error`` (stop, naming the paper).
    """

    model_dir: Path
    files: tuple[Path, ...]
    settings: PredictSettings
    thresholds: tuple[float, ...]
    temperatures: tuple[float | None, ...]
    heads: tuple[str, ...] | None
    store_dir: Path
    fingerprint: dict[str, Any]
    finished: frozenset[int]
    rows_without_text: str


def score_chunk(
    classifier: Classifier,
    chunk: PaperChunk,
    batch_size: int,
    thresholds: tuple[float, ...],
    heads: tuple[str, ...] | None = None,
    temperatures: tuple[float | None, ...] | None = None,
) -> pa.Table:
    """The prediction table of one chunk (null score and label for papers without text).

    A head's temperature (``calibration: temperature``) divides its logits before its threshold
    is applied: the probabilities written are the calibrated ones.
    """
    keep = np.asarray(chunk.has_text(), dtype=bool)
    rows = np.flatnonzero(keep)
    scores = score_papers(
        classifier,
        [chunk.titles[i] for i in rows],
        [chunk.abstracts[i] for i in rows],
        batch_size,
    )
    probability = np.zeros((len(chunk), len(thresholds)), dtype=np.float64)
    probability[rows] = scores.reshape(len(rows), len(thresholds))
    for k, temperature in enumerate(temperatures or ()):
        if temperature:
            probability[rows, k] = scale(probability[rows, k], temperature)
    labels = (probability > np.asarray(thresholds)).astype(np.int8)
    mask = ~keep
    columns = [pa.array(chunk.ids, pa.string())]
    for k in range(len(thresholds)):
        columns.append(pa.array(probability[:, k], pa.float64(), mask=mask))
        columns.append(pa.array(labels[:, k], pa.int8(), mask=mask))
    return pa.Table.from_arrays(columns, schema=prediction_schema(heads))


def score_share(
    job: ScoringJob,
    classifier: Classifier,
    rank: int,
    processes: int,
    report: Callable[[str, int], None],
) -> int:
    """Score and save the unfinished chunks of process ``rank``'s share.

    Args:
        job: The job.
        classifier: The model, loaded by this process.
        rank: This process's index.
        processes: How many processes share the job.
        report: Called with ``("scored", rows)`` after each chunk this process saves and
            ``("skipped", rows)`` for each of its chunks found finished.

    Returns:
        The number of chunks of the whole corpus.

    Raises:
        PredictError: With ``rows_without_text="error"``, on the first paper without text.
    """
    store = ChunkStore(job.store_dir, job.fingerprint)
    chunks = 0
    for index, chunk in enumerate(iter_chunks(list(job.files), job.settings.chunk_rows)):
        chunks = index + 1
        if index % processes != rank:
            continue
        if index in job.finished:
            report("skipped", len(chunk))
            continue
        if job.rows_without_text == "error" and not all(chunk.has_text()):
            first = chunk.ids[chunk.has_text().index(False)]
            raise PredictError(f"paper {first!r} has no title or no abstract: nothing to score")
        table = score_chunk(
            classifier, chunk, job.settings.batch_size, job.thresholds, job.heads,
            job.temperatures,
        )  # fmt: skip
        store.save(index, table)
        report("scored", len(chunk))
    return chunks
