"""The predict stage: one experiment's model applied to a whole corpus (rule ``predict``).

The corpus is streamed in chunks of ``chunk_rows`` papers (:mod:`arxivcat.predict.read_papers`);
each chunk is scored (:mod:`arxivcat.predict.scoring`) and saved in a chunk store outside the
declared output (:mod:`arxivcat.predict.chunk_store`), so a killed job resumes at its last finished
chunk.  The output is then assembled from the chunks, in order, one row group per chunk: a resumed
run writes the same bytes as an uninterrupted one.

Output columns: ``id``, ``probability`` (of the positive class) and ``label`` (1 when the
probability is above the threshold, else 0).  Papers without both a title and an abstract are kept
with a null probability and label, and counted in the log and the manifest; nothing is dropped.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.progress import Progress
from arxivcat.predict.chunk_store import ChunkStore
from arxivcat.predict.model_folder import folder_digest
from arxivcat.predict.read_papers import PaperChunk, corpus_files, count_papers, iter_chunks
from arxivcat.predict.scoring import Classifier, load_classifier_folder, score_papers
from arxivcat.predict.settings import PredictSettings

logger = logging.getLogger(__name__)

PREDICTIONS_SCHEMA = pa.schema(
    [("id", pa.string()), ("probability", pa.float64()), ("label", pa.int8())]
)


class PredictError(ArxivcatError, RuntimeError):
    """A prediction job that cannot go on, described in one line."""


def score_chunk(
    classifier: Classifier, chunk: PaperChunk, batch_size: int, threshold: float
) -> pa.Table:
    """The prediction table of one chunk (null score and label for papers without text)."""
    keep = np.asarray(chunk.has_text(), dtype=bool)
    rows = np.flatnonzero(keep)
    scores = score_papers(
        classifier,
        [chunk.titles[i] for i in rows],
        [chunk.abstracts[i] for i in rows],
        batch_size,
    )
    probability = np.zeros(len(chunk), dtype=np.float64)
    probability[rows] = scores
    mask = ~keep
    return pa.table(
        {
            "id": pa.array(chunk.ids, pa.string()),
            "probability": pa.array(probability, pa.float64(), mask=mask),
            "label": pa.array((probability > threshold).astype(np.int8), pa.int8(), mask=mask),
        },
        schema=PREDICTIONS_SCHEMA,
    )


def _fingerprint(
    model_dir: Path, files: list[Path], settings: PredictSettings, threshold: float, device: str
) -> dict[str, Any]:
    return {
        "model": folder_digest(model_dir),
        "inputs": [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files],
        "chunk_rows": settings.chunk_rows,
        "batch_size": settings.batch_size,
        "device": device,
        "threshold": threshold,
    }


def predict_corpus(
    model_dir: str | Path,
    sources: list[str | Path],
    output_path: str | Path,
    store_dir: str | Path,
    settings: PredictSettings,
    manifest_path: str | Path | None = None,
    threshold_path: str | Path | None = None,
    name: str = "predict",
    rows_without_text: str = "keep",
) -> dict[str, Any]:
    """Score every paper of ``sources`` with the model of ``model_dir``.

    Args:
        model_dir: A model folder (``package_model``'s, or the train stage's).
        sources: Corpus files or globs (see :mod:`arxivcat.predict.read_papers`).
        output_path: The predictions parquet to write.
        store_dir: The chunk store (resumption); removed once the output is written.
        settings: The predict settings (``corpora`` is not used here).
        manifest_path: Where to write a JSON summary of the job, if anywhere.
        threshold_path: A ``threshold.json`` (rule ``choose_threshold``) whose threshold is used
            unless ``settings.threshold`` is set; without it, the folder's recorded one.
        name: What the log lines call the job.
        rows_without_text: ``keep`` (null score) or ``error`` (stop, naming the paper).

    Returns:
        The manifest.

    Raises:
        PredictError: With ``rows_without_text="error"``, on the first paper without text.
        CorpusReadError, ModelFolderError, DeviceError: On unusable inputs.
    """
    started = time.monotonic()
    model_dir = Path(model_dir)
    files = [path for source in sources for path in corpus_files(source)]
    classifier = load_classifier_folder(model_dir, settings.device, settings.precision)
    threshold, source = classifier.threshold, classifier.threshold_source
    if settings.threshold is not None:
        threshold, source = settings.threshold, "setting"
    elif threshold_path is not None:
        recorded = json.loads(Path(threshold_path).read_text(encoding="utf-8"))
        threshold, source = float(recorded["threshold"]), "validation F1"
    store = ChunkStore(
        store_dir, _fingerprint(model_dir, files, settings, threshold, classifier.device.type)
    )
    total = count_papers(files)
    finished = store.open()
    logger.info(
        "%s: %d papers in %d file(s), chunks of %d, batch %d, threshold %.4f",
        name, total, len(files), settings.chunk_rows, settings.batch_size, threshold,
    )  # fmt: skip
    progress = Progress(logger, name, total, every=settings.progress_seconds, unit="rows")
    chunks = 0
    for index, chunk in enumerate(iter_chunks(files, settings.chunk_rows)):
        chunks = index + 1
        if index < finished:
            progress.skip(len(chunk))
            continue
        if rows_without_text == "error" and not all(chunk.has_text()):
            first = chunk.ids[chunk.has_text().index(False)]
            raise PredictError(f"paper {first!r} has no title or no abstract: nothing to score")
        store.save(index, score_chunk(classifier, chunk, settings.batch_size, threshold))
        progress.advance(len(chunk))
    progress.finish()

    without_text = positives = 0
    with atomic_path(output_path) as partial, pq.ParquetWriter(partial, PREDICTIONS_SCHEMA) as out:
        for table in store.tables(chunks):
            without_text += table.column("probability").null_count
            positives += int(pc.sum(table.column("label")).as_py() or 0)
            out.write_table(table)
    store.remove()
    seconds = time.monotonic() - started
    scored = total - without_text
    if without_text:
        logger.warning(
            "%s: %d of %d papers have no title or no abstract: listed with a null score",
            name, without_text, total,
        )  # fmt: skip
    manifest = {
        "papers": total,
        "scored": scored,
        "without_text": without_text,
        "positives": positives,
        "threshold": threshold,
        "threshold_source": source,
        "model_digest": store.fingerprint["model"],
        "device": classifier.device.type,
        "precision": classifier.precision,
        "max_length": classifier.max_length,
        "seconds": round(seconds, 3),
        "resumed_chunks": finished,
    }
    if manifest_path is not None:
        write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    logger.info("%s: %d papers scored, %d positive, written to %s", name, scored, positives,
                output_path)  # fmt: skip
    return manifest
