"""One way to run a model over papers, used by every stage that does it.

The per-epoch validation pass of training, the evaluate stage, the predict stage and the embed
stage all run a model through :func:`run_batches`, so they agree on everything that decides the
numbers and the speed:

- **placement** (:func:`place`): the device follows the training rules (``auto`` picks CUDA, then
  TPU, then CPU; a local multi-GPU machine gives each job a GPU of its own);
- **precision**: bf16 on CUDA (where supported), TPU and CPUs that multiply bf16 in hardware (AMX,
  AVX512-BF16), else fp32; bf16 runs a bf16 copy of the weights, never autocast, so a threshold
  chosen on the evaluate stage's scores means the same on the predict stage's;
- **batches**: rows sorted by token count, longest first, cut into batches padded only to their
  own longest row (a multiple of 8 on CUDA; every batch to the full length on TPU, whose compiler
  wants static shapes);
- **inputs**: :data:`MODEL_INPUTS`, taken from ragged token columns (:class:`Tokens`) that are
  read straight from Arrow, so a split of a million papers is never held as Python lists;
- **records** (:class:`PassStats`): rows, batches, real and padded tokens, seconds, which the
  stages write into their records and the benchmarks read.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import torch

from arxivcat.io.progress import Progress
from arxivcat.model import devices

logger = logging.getLogger(__name__)

#: The token columns a Hugging Face encoder reads (``token_type_ids`` where the tokenizer has it).
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

Forward = Callable[[dict[str, torch.Tensor]], torch.Tensor]


@dataclass(frozen=True)
class Placement:
    """Where and in what precision a model runs.

    Attributes:
        device: The torch device (``xla`` on a TPU).
        precision: ``bf16`` or ``fp32``.
        static_length: On TPU, the length every batch is padded to; None elsewhere.
    """

    device: torch.device
    precision: str
    static_length: int | None = None

    @property
    def dtype(self) -> torch.dtype:
        """The weights' dtype."""
        return torch.bfloat16 if self.precision == "bf16" else torch.float32

    @property
    def pad_multiple(self) -> int:
        """Batch widths are rounded up to this (tensor cores like multiples of 8)."""
        return 8 if self.device.type == "cuda" else 1

    def describe(self) -> str:
        """``cuda bf16``, ``cpu fp32``: what the records say of the placement."""
        return f"{self.device.type} {self.precision}"


def place(device: str, precision: str, max_length: int | None = None) -> Placement:
    """Resolve the ``device`` and ``precision`` settings for inference.

    Args:
        device: ``auto``, ``cuda``, ``tpu`` or ``cpu``; ``auto`` and ``cuda`` first claim a GPU
            of their own on a local multi-GPU machine.
        precision: ``auto``, ``bf16`` or ``fp32``.
        max_length: Tokens per paper: on TPU every batch is padded to it.

    Raises:
        DeviceError: If the requested device is not usable here.
    """
    if device in ("auto", "cuda"):
        devices.claim_gpus(1)
    name = devices.resolve_device(device)
    if name == "tpu":
        import torch_xla.core.xla_model as xm  # type: ignore[import-not-found]

        where = xm.xla_device()
    else:
        where = torch.device(name)
    resolved = devices.resolve_precision(precision, name, inference=True)
    return Placement(where, resolved, max_length if name == "tpu" else None)


def same_placement(placement: Placement, device: torch.device) -> Placement:
    """``placement``'s precision and padding on another device (a DDP process's own GPU)."""
    return Placement(device, placement.precision, placement.static_length)


def inference_copy(model: torch.nn.Module, placement: Placement) -> torch.nn.Module:
    """The model to run for inference: a bf16 copy of a model being trained, else itself.

    The copy makes the training's validation pass score exactly as the evaluate and predict
    stages do (bf16 weights, not autocast) without touching the fp32 weights being trained.
    """
    dtype = next(model.parameters()).dtype
    if dtype != placement.dtype:
        model = copy.deepcopy(model).to(placement.dtype)
    return model.eval()


class Tokens:
    """Ragged token columns (one row per paper): each a flat values array and row offsets.

    Args:
        columns: Column name to ``(values, offsets)``; row ``i`` is
            ``values[offsets[i]:offsets[i + 1]]``.
    """

    def __init__(self, columns: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
        if "input_ids" not in columns:
            raise ValueError("token columns lack input_ids")
        self.columns = {name: columns[name] for name in MODEL_INPUTS if name in columns}
        offsets = self.columns["input_ids"][1]
        self.lengths = np.diff(offsets).astype(np.int64)

    def __len__(self) -> int:
        return len(self.lengths)

    @classmethod
    def from_arrow(cls, table: Any) -> Tokens:
        """The token columns of an Arrow table or a ``datasets.Dataset`` (no Python lists)."""
        if getattr(table, "_indices", None) is not None:  # a Dataset with a row selection
            table = table.flatten_indices()
        data = getattr(table, "data", table)  # a Dataset wraps its Arrow table
        columns = {}
        for name in MODEL_INPUTS:
            if name in data.column_names:
                array = data.column(name)
                if isinstance(array, pa.ChunkedArray):
                    array = array.combine_chunks()
                start = array.offsets[0].as_py() if len(array) else 0
                offsets = array.offsets.to_numpy() - start
                values = array.values.slice(start, int(offsets[-1]) if len(array) else 0)
                columns[name] = (values.to_numpy(), offsets)
        return cls(columns)

    @classmethod
    def from_lists(cls, encoded: Mapping[str, Sequence[Sequence[int]]]) -> Tokens:
        """The token columns of a tokenizer's output (lists of lists)."""
        table = pa.table({k: pa.array(v, pa.list_(pa.int32())) for k, v in encoded.items()})
        return cls.from_arrow(table)

    def batch(self, rows: np.ndarray, width: int, pad_id: int) -> dict[str, torch.Tensor]:
        """Rows ``rows`` padded to ``width`` columns (``pad_id`` in input_ids, else 0)."""
        lengths = self.lengths[rows]
        inside = np.arange(width)[None, :] < lengths[:, None]
        out = {}
        for name, (values, offsets) in self.columns.items():
            padded = np.full((len(rows), width), pad_id if name == "input_ids" else 0, np.int64)
            positions = offsets[rows][:, None] + np.arange(width)[None, :]
            padded[inside] = values[positions[inside]]
            out[name] = torch.from_numpy(padded)
        return out


@dataclass
class PassStats:
    """What one pass over papers did.

    Attributes:
        rows: Papers scored.
        batches: Forward passes.
        real_tokens: Tokens of the papers.
        padded_tokens: Tokens fed to the model, padding included.
        seconds: Wall time of the pass.
        placement: Where it ran (``cuda bf16``, ...).
        cpu_seconds: CPU time of the process during the pass (all its threads): on a CPU shared
            with other jobs, a fairer measure of the work than the wall time.
    """

    rows: int = 0
    batches: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    seconds: float = 0.0
    placement: str = ""
    cpu_seconds: float = 0.0

    @property
    def samples_per_second(self) -> float:
        """Rows per second of wall time."""
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The record a stage writes (seconds and rate rounded)."""
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        out["cpu_seconds"] = round(self.cpu_seconds, 3)
        out["samples_per_second"] = round(self.samples_per_second, 2)
        return out


def batch_order(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Row indices grouped into batches of similar length, longest first."""
    order = np.argsort(-lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


@torch.inference_mode()
def run_batches(
    forward: Forward,
    tokens: Tokens,
    batch_size: int,
    placement: Placement,
    pad_id: int = 0,
    progress: Progress | None = None,
) -> tuple[np.ndarray, PassStats]:
    """Run ``forward`` over every row of ``tokens``; return its outputs in row order.

    Args:
        forward: Maps a batch of model inputs (on the device) to a ``[batch, k]`` tensor:
            a classifier's logits, or an encoder's pooled embedding.
        tokens: The papers' token columns.
        batch_size: Rows per forward pass.
        placement: Where the model runs (it is there already).
        pad_id: The tokenizer's padding id.
        progress: Advanced by each batch's rows, when given.

    Returns:
        A float32 array ``[rows, k]`` and the pass's :class:`PassStats`.
    """
    started, started_cpu = time.monotonic(), time.process_time()
    stats = PassStats(rows=len(tokens), placement=placement.describe())
    outputs: np.ndarray | None = None
    multiple = placement.pad_multiple
    for rows in batch_order(tokens.lengths, batch_size):
        width = placement.static_length or -(-int(tokens.lengths[rows[0]]) // multiple) * multiple
        inputs = {
            name: tensor.to(placement.device, non_blocking=True)
            for name, tensor in tokens.batch(rows, width, pad_id).items()
        }
        result = forward(inputs).float().cpu().numpy()
        if outputs is None:
            outputs = np.empty((len(tokens), result.shape[1]), dtype=np.float32)
        outputs[rows] = result
        stats.batches += 1
        stats.real_tokens += int(tokens.lengths[rows].sum())
        stats.padded_tokens += width * len(rows)
        if progress is not None:
            progress.advance(len(rows))
    stats.seconds = time.monotonic() - started
    stats.cpu_seconds = time.process_time() - started_cpu
    return (outputs if outputs is not None else np.zeros((0, 0), np.float32)), stats


def classifier_logits(model: torch.nn.Module) -> Forward:
    """The forward function of a sequence classifier: its logits."""

    def forward(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return model(**inputs).logits

    return forward


def classifier_input(model: torch.nn.Module) -> Forward:
    """The forward function of a BERT-style classifier's input to its last layer (pooled)."""

    def forward(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return model.base_model(**inputs).pooler_output

    return forward


def logits_and_input(model: torch.nn.Module) -> Forward:
    """A BERT-style classifier's logits followed by the pooled features they come from.

    ``[batch, labels + hidden]``: the logits are the model's own (its last layer on the pooled
    output; dropout is off in eval mode), computed in the same forward pass.
    """
    features = classifier_input(model)

    def forward(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        pooled = features(inputs)
        return torch.cat([model.classifier(pooled), pooled], dim=1)

    return forward


def softmax_outputs(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positive-class probabilities and the log-probabilities of a 2-way classifier's logits.

    Raises:
        ValueError: If a logit is not finite.
    """
    values = np.asarray(logits, dtype=np.float64)
    if values.size and not np.isfinite(values).all():
        raise ValueError("the model produced non-finite logits")
    log_probs = torch.log_softmax(torch.from_numpy(values), dim=-1).numpy()
    return np.exp(log_probs[:, 1]), log_probs


def positive_probabilities(logits: np.ndarray, multi_head: bool) -> np.ndarray:
    """Probability of label 1: a 2-way softmax's, or each head's sigmoid (``[rows, heads]``).

    Raises:
        ValueError: If a logit is not finite.
    """
    if not multi_head:
        return softmax_outputs(logits)[0]
    values = np.asarray(logits, dtype=np.float64)
    if values.size and not np.isfinite(values).all():
        raise ValueError("the model produced non-finite logits")
    return np.exp(-np.logaddexp(0, -values))


def load_for_inference(model_dir: str | Path, placement: Placement) -> Any:
    """A trained sequence classifier from ``model_dir``, on ``placement``, in eval mode.

    Weights are loaded in the placement's dtype, with PyTorch's fused attention (SDPA) where the
    device supports it (eager on TPU, as training).

    Raises:
        OSError: From ``from_pretrained`` when the folder cannot be loaded.
    """
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as transformers_logging

    # Its progress bars would leave carriage returns in the job's log.
    transformers_logging.disable_progress_bar()
    attention = "eager" if placement.device.type == "xla" else "sdpa"
    model = AutoModelForSequenceClassification.from_pretrained(
        str(model_dir), attn_implementation=attention, dtype=placement.dtype
    )
    return model.to(placement.device).eval()
