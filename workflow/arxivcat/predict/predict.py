"""The predict stage: one experiment's model applied to a whole corpus (rule ``predict``).

The corpus is streamed in chunks of ``chunk_rows`` papers (:mod:`arxivcat.predict.read_papers`);
each chunk is scored (:mod:`arxivcat.predict.scoring`) and saved in a chunk store outside the
declared output (:mod:`arxivcat.predict.chunk_store`), so a killed job resumes at its finished
chunks.  With ``gpus`` above 1 on CUDA the chunks are dealt out to one process per GPU
(:mod:`arxivcat.predict.spread`).  The output is then assembled from the chunks, in order, one row
group per chunk: a resumed or spread run writes the same bytes as an uninterrupted one.

Output columns: ``id``, ``probability`` (of the positive class) and ``label`` (1 when the
probability is above the threshold, else 0); a multi-head model's are ``probability:<head>`` and
``label:<head>`` for each head.  Papers without both a title and an abstract are kept with a null
probability and label, and counted in the log and the manifest; nothing is dropped.  What the job
will do is settled first (:mod:`arxivcat.predict.plan`); the manifest adds, per head, the share
labelled positive and the share of positives that explains it
(:mod:`arxivcat.model.prevalence`).
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

from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.progress import Progress
from arxivcat.predict.chunk_store import ChunkStore
from arxivcat.predict.plan import Plan, fingerprint, head_shares, plan_job
from arxivcat.predict.scoring_job import (
    ScoringJob,
    prediction_schema,
    score_share,
)
from arxivcat.predict.settings import PredictSettings
from arxivcat.predict.spread import score_in_processes

logger = logging.getLogger(__name__)


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
    processes: int | None = None,
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
        processes: Scoring processes; None: one per GPU of ``settings.gpus`` on CUDA, else one
            (more than one on the CPU only divides its cores among them).

    Returns:
        The manifest.

    Raises:
        PredictError: If an output is an input (before anything is read or scored); with
            ``rows_without_text="error"``, on the first paper without text.
        CorpusReadError, ModelFolderError, DeviceError: On unusable inputs.
    """
    started = time.monotonic()
    model_dir = Path(model_dir)
    plan = plan_job(
        model_dir, sources, [output_path, manifest_path], settings, threshold_path, processes
    )
    for path in (path for path, rows in zip(plan.files, plan.counts, strict=True) if not rows):
        logger.warning("%s: %s: no papers in this file", name, path)
    store = ChunkStore(store_dir, fingerprint(model_dir, plan, settings))
    job = ScoringJob(
        model_dir, tuple(plan.files), settings, plan.thresholds, plan.temperatures, plan.heads,
        store.directory, store.fingerprint, store.open(), rows_without_text,
    )  # fmt: skip
    total = sum(plan.counts)
    chunks, loaded = _score(job, plan, settings, name, total)
    without_text, positives, ids = _assemble(store, chunks, output_path, plan.heads)
    store.remove()
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
        **head_shares(plan, positives, scored),
        "threshold_source": plan.source,
        "model_digest": store.fingerprint["model"],
        **loaded,
        "processes": plan.processes,
        "seconds": round(time.monotonic() - started, 3),
        "resumed_chunks": len(job.finished),
        "repeated_ids": _warn_repeated_ids(ids, plan.files, plan.counts, name),
    }
    if manifest_path is not None:
        write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    logger.info("%s: %d papers scored, %s positive, written to %s", name, scored,
                "/".join(map(str, positives)), output_path)  # fmt: skip
    return manifest


def _score(
    job: ScoringJob, plan: Plan, settings: PredictSettings, name: str, total: int
) -> tuple[int, dict[str, Any]]:
    """Score every chunk not yet stored, with progress lines; the chunks and the model's record.

    In this process when the plan holds a loaded classifier, else in ``plan.processes``.
    """
    logger.info(
        "%s: %d papers in %d file(s), chunks of %d, batch %d, %s (%s), %d process(es)",
        name, total, len(plan.files), settings.chunk_rows, settings.batch_size,
        f"threshold {plan.thresholds[0]:.4f}" if plan.heads is None
        else f"{len(plan.heads)} heads' thresholds", plan.source, plan.processes,
    )  # fmt: skip
    progress = Progress(logger, name, total, every=settings.progress_seconds, unit="rows")
    if plan.classifier is None:
        chunks, loaded = score_in_processes(job, plan.processes, plan.gpus, progress)
    else:
        report = {"scored": progress.advance, "skipped": progress.skip}
        chunks = score_share(job, plan.classifier, 0, 1, lambda kind, rows: report[kind](rows))
        loaded = plan.classifier.record()
    progress.finish()
    return chunks, loaded


def _assemble(
    store: ChunkStore, chunks: int, output_path: str | Path, heads: tuple[str, ...] | None
) -> tuple[int, list[int], pa.Array]:
    """Write the output from the chunks, in order.

    Returns:
        Papers with a null score, positives of each head (one for a 2-way classifier), the ids.
    """
    schema = prediction_schema(heads)
    labels = [name for name in schema.names if name.startswith("label")]
    without_text, positives = 0, [0] * len(labels)
    ids = []
    with atomic_path(output_path) as partial, pq.ParquetWriter(partial, schema) as out:
        for table in store.tables(chunks):
            without_text += table.column(labels[0]).null_count
            for k, name in enumerate(labels):
                positives[k] += int(pc.sum(table.column(name)).as_py() or 0)
            ids.extend(table.column("id").chunks)
            out.write_table(table)
    return without_text, positives, pa.concat_arrays(ids) if ids else pa.array([], pa.string())


def _warn_repeated_ids(ids: pa.Array, files: list[Path], counts: list[int], name: str) -> int:
    """Count the rows whose id an earlier row has, and name the first of them in a warning.

    Such rows are kept, scored and listed in corpus order like any other: the output then lines up
    with the corpus row for row, and the joined tables keep one row per corpus record (the arXiv
    snapshot itself lists a few papers twice).  Refusing would make such a corpus unscorable;
    dropping rows would silently break that alignment.

    Returns:
        The number of rows that repeat an earlier id.
    """
    codes = ids.dictionary_encode().indices.to_numpy(zero_copy_only=False)
    _, first = np.unique(codes, return_index=True)
    repeated = int(codes.size - first.size)
    if repeated:
        later = np.ones(codes.size, dtype=bool)
        later[first] = False
        row = int(np.argmax(later))
        bounds = np.cumsum(counts)

        def where(index: int) -> str:
            file = int(np.searchsorted(bounds, index, side="right"))
            return f"{files[file]} row {index + 1 - (int(bounds[file - 1]) if file else 0)}"

        rows = "1 row repeats" if repeated == 1 else f"{repeated} rows repeat"
        logger.warning(
            "%s: %s: id %r repeats %s (%s an earlier id; every row is scored, in order)",
            name, where(row), ids[row].as_py(), where(int(first[codes[row]])), rows,
        )  # fmt: skip
    return repeated
