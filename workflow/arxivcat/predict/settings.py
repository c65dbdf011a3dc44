"""The ``predict:`` block of the configuration as a typed, frozen object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from arxivcat.errors import ArxivcatError

#: The name endings of the files a local corpus source may hold (read by
#: :mod:`arxivcat.predict.read_papers`; here so that the Snakefile's input functions can list a
#: source's files without importing the reader).
CORPUS_SUFFIXES = (".parquet", ".csv", ".jsonl", ".json", ".jsonl.gz", ".json.gz")


class PredictSettingsError(ArxivcatError, ValueError):
    """A ``predict`` settings mapping with unknown or missing keys."""


@dataclass(frozen=True)
class PredictSettings:
    """How the predict stage reads corpora and runs the models (see ``config/schema.yaml``).

    Attributes:
        corpora: Corpus name -> source (``arxiv``, ``oai``, or a local path, directory or glob).
        batch_size: Papers per forward pass.
        chunk_rows: Papers per chunk: the unit of streaming, memory and resumption.
        device: ``auto``, ``cuda``, ``tpu`` or ``cpu`` (the training device rules).
        gpus: GPUs one job spreads its chunks over (one process each), on CUDA.
        precision: ``auto``, ``bf16`` or ``fp32``.
        threshold: Probability above which a paper gets the positive label; None uses the
            threshold recorded in the model folder (0.5 when it records none).
        progress_seconds: Seconds between progress lines in the log.
    """

    corpora: dict[str, str]
    batch_size: int
    chunk_rows: int
    device: str
    gpus: int
    precision: str
    threshold: float | None
    progress_seconds: float

    @classmethod
    def from_dict(cls, mapping: dict[str, Any]) -> PredictSettings:
        """Build the settings from a validated ``predict`` mapping (strict about its keys)."""
        names = [field.name for field in fields(cls)]
        unknown = sorted(set(mapping) - set(names))
        if unknown:
            raise PredictSettingsError(f"predict: unknown setting(s) {', '.join(unknown)}")
        missing = [name for name in names if name not in mapping]
        if missing:
            raise PredictSettingsError(f"predict: missing setting(s) {', '.join(missing)}")
        return cls(**{name: mapping[name] for name in names})

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain mapping (the schema's keys)."""
        return asdict(self)
