"""Settings of the probe stages: the embedding pass and the logistic regression on it.

Keys, meanings and defaults are those of ``config/schema.yaml``: :class:`EmbedSettings` is the
``embed`` block, :class:`ProbeSettings` the ``probe`` block, and :class:`EncoderSettings` the two
training keys that name an embedding (the rule ``embed`` passes them as its ``encoder`` params).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from arxivcat.stage_settings import StageSettings


@dataclass(frozen=True)
class EncoderSettings(StageSettings):
    """The encoder of an embedding (the ``training`` keys of the experiments sharing it).

    Attributes:
        model: The base model reference, used as it is (not fine-tuned).
        max_length: Tokens per (title, abstract) pair, truncated from the abstract.
    """

    model: str
    max_length: int


@dataclass(frozen=True)
class EmbedSettings(StageSettings):
    """How the embed stage runs the encoder (``embed``).

    Attributes:
        batch_size: Papers per forward pass (length-sorted within a chunk).
        chunk_rows: Papers embedded and saved at a time: memory and resumption follow it.
        device: ``auto``, ``cuda``, ``tpu`` or ``cpu`` (the training device rules).
        precision: ``auto``, ``bf16`` or ``fp32`` (the predict stage's rules).
        progress_seconds: Seconds between progress lines in the log.
    """

    BLOCK: ClassVar[str] = "embed"

    batch_size: int
    chunk_rows: int
    device: str
    precision: str
    progress_seconds: float


@dataclass(frozen=True)
class ProbeSettings(StageSettings):
    """How the logistic regression on the embeddings is fitted (``probe``).

    Attributes:
        c_grid: Inverse regularisation strengths tried; the one with the best validation F1
            (each at its own threshold) is kept.
        max_iter: Most iterations of each fit.
    """

    BLOCK: ClassVar[str] = "probe"

    c_grid: tuple[float, ...]
    max_iter: int
