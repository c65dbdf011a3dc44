"""The predict stage: one experiment's model applied to a whole corpus (rule ``predict``).

The corpus is streamed in chunks of ``chunk_rows`` papers (:mod:`arxivcat.predict.read_papers`);
each chunk is scored (:mod:`arxivcat.predict.scoring`) and saved in a chunk store outside the
declared output (:mod:`arxivcat.predict.chunk_store`), so a killed job resumes at its finished
chunks.  With ``gpus`` above 1 on CUDA the chunks are dealt out to one process per GPU
(:mod:`arxivcat.predict.spread`).  The output is then assembled from the chunks, in order, one row
group per chunk: a resumed or spread run writes the same bytes as an uninterrupted one.

Output columns: ``id``, ``probability`` (of the positive class) and ``label`` (1 when the
probability is above the threshold, else 0).  Papers without both a title and an abstract are kept
with a null probability and label, and counted in the log and the manifest; nothing is dropped.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch

from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.progress import Progress
from arxivcat.model import devices
from arxivcat.model.prevalence import estimated_prevalence
from arxivcat.predict.chunk_store import ChunkStore
from arxivcat.predict.model_folder import (
    DEFAULT_THRESHOLD,
    ModelFolderError,
    folder_digest,
    folder_heads,
    read_decisions,
    read_folder_info,
    read_threshold,
)
from arxivcat.predict.read_papers import corpus_files, papers_per_file
from arxivcat.predict.scoring import load_classifier_folder
from arxivcat.predict.scoring_job import (
    PredictError,
    ScoringJob,
    prediction_schema,
    score_share,
)
from arxivcat.predict.settings import PredictSettings
from arxivcat.predict.spread import score_in_processes

logger = logging.getLogger(__name__)


def _thresholds(
    model_dir: Path,
    settings: PredictSettings,
    threshold_path: str | Path | None,
    heads: tuple[str, ...] | None,
) -> tuple[tuple[float, ...], str]:
    """Each head's label threshold (one for a 2-way classifier) and where they come from.

    ``settings.threshold`` wins (for every head); then ``threshold_path``; then the folder's.

    Raises:
        ModelFolderError: If a recorded threshold is missing for a head or is not a probability.
    """
    info = read_folder_info(model_dir)
    if settings.threshold is not None:
        return (settings.threshold,) * len(heads or (None,)), "setting"
    recorded, source = (
        read_threshold(threshold_path)
        if threshold_path is not None
        else (info.head_thresholds or info.threshold, info.threshold_source)
    )
    if heads is None:
        if isinstance(recorded, dict):
            raise ModelFolderError(f"{threshold_path or model_dir}: per-head thresholds for a "
                                   "2-way classifier")  # fmt: skip
        return (recorded,), source
    if not isinstance(recorded, dict):
        return (DEFAULT_THRESHOLD,) * len(heads), "default"
    missing = [head for head in heads if head not in recorded]
    if missing:
        raise ModelFolderError(f"{threshold_path or model_dir}: no threshold for head {missing[0]}")
    return tuple(recorded[head] for head in heads), source


def _shares(
    heads: tuple[str, ...] | None,
    thresholds: tuple[float, ...],
    positives: list[int],
    scored: int,
    decisions: list[dict[str, Any]],
    source: str,
) -> dict[str, Any]:
    """Each head's threshold, positives, the share labelled positive and the corrected share.

    The corrected share (:func:`~arxivcat.model.prevalence.estimated_prevalence`) uses
    validation's rates at the recorded threshold; with a threshold set by hand there are none.
    """
    records = []
    for threshold, count, chosen in zip(thresholds, positives, decisions, strict=True):
        share = count / scored if scored else None
        rates = chosen["validation_rates"] if source != "setting" else {}
        tpr, fpr = rates.get("true_positive"), rates.get("false_positive")
        estimate = None
        if share is not None and tpr is not None and fpr is not None:
            estimate = estimated_prevalence(share, tpr, fpr)
        records.append(
            {
                "threshold": threshold,
                "positives": count,
                "labelled_positive_share": share,
                "estimated_prevalence": estimate,
                "temperature": chosen["temperature"],
            }
        )
    if heads is None:
        return records[0]
    keys = ("positives", "labelled_positive_share", "estimated_prevalence", "temperature")
    out = {key: {h: r[key] for h, r in zip(heads, records, strict=True)} for key in keys}
    out["thresholds"] = dict(zip(heads, thresholds, strict=True))
    return out


def _fingerprint(
    model_dir: Path,
    files: list[Path],
    settings: PredictSettings,
    thresholds: tuple[float, ...],
    temperatures: tuple[float | None, ...],
    device: str,
) -> dict[str, Any]:
    return {
        "model": folder_digest(model_dir),
        "inputs": [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in files],
        "chunk_rows": settings.chunk_rows,
        "batch_size": settings.batch_size,
        "device": device,
        "thresholds": list(thresholds),
        "temperatures": list(temperatures),
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
    files = [path for source in sources for path in corpus_files(source)]
    _check_outputs_are_not_inputs(files, [output_path, manifest_path])
    heads = folder_heads(model_dir)
    thresholds, source = _thresholds(model_dir, settings, threshold_path, heads)
    decisions = read_decisions(model_dir, threshold_path, heads)
    temperatures = tuple(d["temperature"] for d in decisions)
    counts = papers_per_file(files)
    total = sum(counts)
    for path in (path for path, rows in zip(files, counts, strict=True) if not rows):
        logger.warning("%s: %s: no papers in this file", name, path)
    gpus = _gpus(settings, processes)
    count = processes or (len(gpus) if gpus else 1)
    classifier = None
    if count == 1:
        classifier = load_classifier_folder(model_dir, settings.device, settings.precision)
        device = classifier.placement.device.type
    else:
        device = "cuda" if gpus else devices.resolve_device(settings.device)
    fingerprint = _fingerprint(model_dir, files, settings, thresholds, temperatures, device)
    store = ChunkStore(store_dir, fingerprint)
    job = ScoringJob(
        model_dir, tuple(files), settings, thresholds, temperatures, heads, store.directory,
        store.fingerprint, store.open(), rows_without_text,
    )  # fmt: skip
    logger.info(
        "%s: %d papers in %d file(s), chunks of %d, batch %d, %s (%s), %d process(es)",
        name, total, len(files), settings.chunk_rows, settings.batch_size,
        f"threshold {thresholds[0]:.4f}" if heads is None else f"{len(heads)} heads' thresholds",
        source, count,
    )  # fmt: skip
    progress = Progress(logger, name, total, every=settings.progress_seconds, unit="rows")
    if classifier is None:
        chunks, loaded = score_in_processes(job, count, gpus, progress)
    else:
        report = {"scored": progress.advance, "skipped": progress.skip}
        chunks = score_share(job, classifier, 0, 1, lambda kind, rows: report[kind](rows))
        loaded = classifier.record()
    progress.finish()

    without_text, positives, ids = _assemble(store, chunks, output_path, heads)
    store.remove()
    repeated = _warn_repeated_ids(ids, files, counts, name)
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
        **_shares(heads, thresholds, positives, scored, decisions, source),
        "threshold_source": source,
        "model_digest": store.fingerprint["model"],
        **loaded,
        "processes": count,
        "seconds": round(seconds, 3),
        "resumed_chunks": len(job.finished),
        "repeated_ids": repeated,
    }
    if manifest_path is not None:
        write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    logger.info("%s: %d papers scored, %s positive, written to %s", name, scored,
                "/".join(map(str, positives)), output_path)  # fmt: skip
    return manifest


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


def _check_outputs_are_not_inputs(files: list[Path], outputs: list[str | Path | None]) -> None:
    """Refuse an output that is one of the corpus files (by any name: relative, through links).

    Writing it would replace the corpus with its own predictions.

    Raises:
        PredictError: Naming the output and the input.
    """
    inputs = {path.resolve(): path for path in files}
    for output in filter(None, outputs):
        if (same := inputs.get(Path(output).resolve())) is not None:
            raise PredictError(f"{output}: is also an input ({same}); choose another output")


def _gpus(settings: PredictSettings, processes: int | None) -> list[str] | None:
    """The GPUs (``CUDA_VISIBLE_DEVICES`` entries) of a job spread over several, else None.

    The GPUs are claimed before CUDA is first asked about, so that the claim can still restrict it.
    """
    if processes is not None or settings.gpus < 2 or settings.device not in ("auto", "cuda"):
        return None
    devices.claim_gpus(settings.gpus)
    if devices.resolve_device(settings.device) != "cuda":
        return None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(i) for i in range(torch.cuda.device_count())]
    if len(gpus) < settings.gpus:
        logger.warning("predict.gpus is %d but %d GPU(s) are visible", settings.gpus, len(gpus))
    return gpus[: settings.gpus] if len(gpus) > 1 else None
