"""The embed stage (rule ``embed``): a base encoder's embedding of every paper of a split.

The experiment's ``training.model``, as it is (not fine-tuned), embeds each paper of the split
(:mod:`arxivcat.probe.papers`) once, for every experiment and head on that split with that encoder
and token budget (the weak-negative pool, once for every split, is
:mod:`arxivcat.probe.embed_weak_negatives`'s, by the machinery here): pooled as the model family
intends (:mod:`arxivcat.model.encoder`), tokenized as training tokenizes
(:func:`~arxivcat.model.tokenize.encode_pairs`), and run through the one inference path
(:mod:`arxivcat.model.inference`: length-sorted batches, the predict stage's device and precision
rules). Papers are embedded in chunks saved to a chunk store outside the declared output
(:class:`~arxivcat.predict.chunk_store.ChunkStore`), so a killed job resumes at its finished chunks;
each chunk keeps the record of its pass, so the manifest's compute is that of the whole embedding
however often the job was interrupted.

Output: ``id``, ``weak_negative`` and ``embedding`` (float32, fixed width), one row group per
chunk; the manifest says which encoder, pooling and placement made them and what the pass cost.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.progress import Progress
from arxivcat.model.encoder import Pooling, load_encoder, pooled_forward, read_pooling
from arxivcat.model.inference import PassStats, Placement, Tokens, place, run_batches
from arxivcat.model.loading import load_tokenizer
from arxivcat.model.tokenize import encode_pairs
from arxivcat.predict.chunk_store import ChunkStore
from arxivcat.probe.papers import PaperChunk, SplitPapers, WeakNegativePapers
from arxivcat.probe.settings import EmbedSettings, EncoderSettings

logger = logging.getLogger(__name__)

#: The chunk's schema metadata key holding the record of its pass (:class:`PassStats`).
PASS_KEY = b"arxivcat.pass"
_SUMMED = ("rows", "batches", "real_tokens", "padded_tokens", "seconds", "cpu_seconds")


class EmbedError(ArxivcatError, RuntimeError):
    """An embedding that cannot be made, described in one line."""


def embedding_schema(dimension: int) -> pa.Schema:
    """The columns of an embedding table."""
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("weak_negative", pa.bool_(), nullable=False),
            pa.field("embedding", pa.list_(pa.float32(), dimension), nullable=False),
        ]
    )


class Embedder:
    """A base encoder ready to embed papers.

    Args:
        encoder: The model reference and token budget.
        settings: Batch size, device and precision.

    Raises:
        ModelNotAvailableError: If the model cannot be found or its pooling is not supported.
        DeviceError: If the device is not usable here.
    """

    def __init__(self, encoder: EncoderSettings, settings: EmbedSettings) -> None:
        self.pooling: Pooling = read_pooling(encoder.model)
        self.placement: Placement = place(settings.device, settings.precision, encoder.max_length)
        self.tokenizer = load_tokenizer(encoder.model)
        self.model = load_encoder(encoder.model, self.placement)
        limit = int(getattr(self.model.config, "max_position_embeddings", 0) or encoder.max_length)
        self.max_length = min(encoder.max_length, limit)
        self.dimension = int(self.model.config.hidden_size)
        self.batch_size = settings.batch_size
        self.forward = pooled_forward(self.model, self.pooling)
        logger.info(
            "encoder %s on %s (attention %s), %s, %d tokens per paper, %d dimensions",
            encoder.model, self.placement.describe(), self.model.config._attn_implementation,
            self.pooling.describe(), self.max_length, self.dimension,
        )  # fmt: skip

    def record(self, model: str) -> dict[str, Any]:
        """What the manifest says of the encoder (``model`` is its reference)."""
        return {
            "model": model,
            "max_length": self.max_length,
            "pooling": self.pooling.to_dict(),
            "dimension": self.dimension,
        }

    def embed(self, chunk: PaperChunk) -> pa.Table:
        """The embedding table of ``chunk``, its pass record in the schema metadata.

        Raises:
            EmbedError: If the encoder produced a non-finite value.
        """
        tokens = Tokens.from_lists(
            encode_pairs(self.tokenizer, chunk.titles, chunk.abstracts, self.max_length)
        )
        pad = self.tokenizer.pad_token_id or 0
        vectors, stats = run_batches(self.forward, tokens, self.batch_size, self.placement, pad)
        if not np.isfinite(vectors).all():
            raise EmbedError(f"the encoder produced non-finite values (first paper {chunk.ids[0]})")
        schema = embedding_schema(self.dimension)
        flat = pa.array(vectors.reshape(-1), pa.float32())
        table = pa.table(
            [
                pa.array(chunk.ids, pa.string()),
                pa.array(np.full(len(chunk), chunk.weak_negative)),
                pa.FixedSizeListArray.from_arrays(flat, self.dimension),
            ],
            schema=schema,
        )
        return table.replace_schema_metadata({PASS_KEY: json.dumps(stats.to_dict())})


def _fingerprint(
    inputs: list[Path], embedder: Embedder, encoder: EncoderSettings, settings: EmbedSettings
) -> dict[str, Any]:
    return {
        "inputs": [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in inputs],
        "model": encoder.model,
        "max_length": embedder.max_length,
        "pooling": embedder.pooling.to_dict(),
        "placement": embedder.placement.describe(),
        "chunk_rows": settings.chunk_rows,
        "batch_size": settings.batch_size,
    }


def _assemble(store: ChunkStore, chunks: int, output_path: str | Path, dimension: int) -> PassStats:
    """Write the output from the chunks, in order; return the summed record of their passes."""
    total: dict[str, Any] = dict.fromkeys(_SUMMED, 0)
    placement = ""
    schema = embedding_schema(dimension)
    with atomic_path(output_path) as partial, pq.ParquetWriter(partial, schema) as out:
        for table in store.tables(chunks):
            record = json.loads(table.schema.metadata[PASS_KEY])
            for key in _SUMMED:
                total[key] += record[key]
            placement = record["placement"]
            out.write_table(table.replace_schema_metadata(None))
    return PassStats(**total, placement=placement)


def _embed_chunks(
    papers: SplitPapers | WeakNegativePapers,
    embedder: Embedder,
    store: ChunkStore,
    settings: EmbedSettings,
    name: str,
) -> tuple[int, int]:
    """Embed and save every chunk not yet in the store; return the chunks and those resumed."""
    done = store.open()
    logger.info(
        "%s: %d %s, chunks of %d, batch %d", name, len(papers),
        "weak negatives" if papers.weak_negative else "papers", settings.chunk_rows,
        settings.batch_size,
    )  # fmt: skip
    progress = Progress(logger, name, len(papers), every=settings.progress_seconds, unit="papers")
    chunks = 0
    for index, chunk in enumerate(papers.chunks(settings.chunk_rows)):
        chunks = index + 1
        if index in done:
            progress.skip(len(chunk))
            continue
        store.save(index, embedder.embed(chunk))
        progress.advance(len(chunk))
    progress.finish()
    return chunks, len(done)


def embed_papers(
    papers: SplitPapers | WeakNegativePapers,
    inputs: list[Path],
    output_path: str | Path,
    manifest_path: str | Path,
    store_dir: str | Path,
    encoder: EncoderSettings,
    settings: EmbedSettings,
    name: str,
) -> dict[str, Any]:
    """Embed ``papers`` (read from ``inputs``) with a base encoder, resumably; write the manifest.

    Args:
        papers: A split definition's papers or the weak-negative pool.
        inputs: The files they are read from (a changed one voids the chunk store).
        output_path: The embedding table to write.
        manifest_path: The JSON record to write: encoder, pooling, counts, the pass's compute.
        store_dir: The chunk store (resumption); removed once the output is written.
        encoder: The model reference and token budget.
        settings: Batch size, chunk size, device, precision, progress interval.
        name: What the log lines call the job.

    Returns:
        The manifest.

    Raises:
        EmbedError: If the encoder produced a non-finite value.
        ModelNotAvailableError, DeviceError: On an unusable model or device.
    """
    started = time.monotonic()
    embedder = Embedder(encoder, settings)
    store = ChunkStore(store_dir, _fingerprint(inputs, embedder, encoder, settings))
    chunks, resumed = _embed_chunks(papers, embedder, store, settings, name)
    stats = _assemble(store, chunks, output_path, embedder.dimension)
    store.remove()
    manifest = {
        "encoder": embedder.record(encoder.model),
        "papers": len(papers),
        "weak_negatives": papers.weak_negative,
        "pass": stats.to_dict(),
        "batch_size": settings.batch_size,
        "chunk_rows": settings.chunk_rows,
        "resumed_chunks": resumed,
        "seconds": round(time.monotonic() - started, 3),
    }
    write_text_atomic(manifest_path, json.dumps(manifest, indent=2) + "\n")
    logger.info("%s: %d embeddings written to %s (%s of encoder passes)", name, stats.rows,
                output_path, f"{stats.seconds:.1f} s")  # fmt: skip
    return manifest


def embed_split(
    corpus_path: str | Path,
    assignment_path: str | Path,
    output_path: str | Path,
    manifest_path: str | Path,
    store_dir: str | Path,
    encoder: EncoderSettings,
    settings: EmbedSettings,
    name: str = "embed",
) -> dict[str, Any]:
    """Embed every paper of a split definition with a base encoder (see :func:`embed_papers`).

    Args:
        corpus_path: The corpus parquet file.
        assignment_path: The split definition's assignment.
        output_path: The embedding table to write.
        manifest_path: Its manifest (see :func:`embed_papers`).
        store_dir: The chunk store (resumption).
        encoder: The model reference and token budget.
        settings: Batch size, chunk size, device, precision, progress interval.
        name: What the log lines call the job.

    Returns:
        The manifest.

    Raises:
        SplitError: If the assignment does not fit the corpus.
        EmbedError: If the encoder produced a non-finite value.
        ModelNotAvailableError, DeviceError: On an unusable model or device.
    """
    return embed_papers(
        SplitPapers(corpus_path, assignment_path),
        [Path(corpus_path), Path(assignment_path)],
        output_path, manifest_path, store_dir, encoder, settings, name,
    )  # fmt: skip
