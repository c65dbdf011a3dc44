"""Rule ``embed_weak_negatives``: a base encoder's embedding of the weak-negative pool.

One embedding of the pool per encoder, shared by every split definition and experiment that adds
weak negatives (an experiment without them never needs the pool, nor the OpenAlex key behind it);
the papers are :class:`~arxivcat.probe.papers.WeakNegativePapers`, embedded as a split's are
(:func:`~arxivcat.probe.embed.embed_papers`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from arxivcat.probe.embed import embed_papers
from arxivcat.probe.papers import WeakNegativePapers
from arxivcat.probe.settings import EmbedSettings, EncoderSettings


def embed_weak_negatives(
    corpus_path: str | Path,
    weak_negatives_path: str | Path,
    output_path: str | Path,
    manifest_path: str | Path,
    store_dir: str | Path,
    encoder: EncoderSettings,
    settings: EmbedSettings,
    name: str = "embed weak negatives",
) -> dict[str, Any]:
    """Embed the weak-negative pool with a base encoder (see :func:`embed_papers`).

    Args:
        corpus_path: The corpus parquet file (arXiv papers are left out of the pool).
        weak_negatives_path: The weak-negative table.
        output_path: The embedding table to write.
        manifest_path: Its manifest (see :func:`~arxivcat.probe.embed.embed_papers`).
        store_dir: The chunk store (resumption).
        encoder: The model reference and token budget.
        settings: Batch size, chunk size, device, precision, progress interval.
        name: What the log lines call the job.

    Returns:
        The manifest.

    Raises:
        EmbedError: If the encoder produced a non-finite value.
        ModelNotAvailableError, DeviceError: On an unusable model or device.
    """
    return embed_papers(
        WeakNegativePapers(corpus_path, weak_negatives_path),
        [Path(corpus_path), Path(weak_negatives_path)],
        output_path, manifest_path, store_dir, encoder, settings, name,
    )  # fmt: skip
