"""A trained classifier loaded for scoring, and the scoring of one chunk of papers.

Within a chunk the papers are tokenized in one call, sorted by token count and cut into batches
that are padded only to their own longest row (dynamic padding); the scores are put back in the
chunk's order.  The weights run in bf16 on CUDA (when the GPU supports it), TPU and CPUs that
multiply bf16 in hardware, with PyTorch's fused attention (SDPA); the device follows the training
rules (``auto``, a GPU claimed per job).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arxivcat.model import devices
from arxivcat.model.loading import load_tokenizer
from arxivcat.model.tokenize import encode_pairs
from arxivcat.predict.model_folder import ModelFolderError, read_folder_info

logger = logging.getLogger(__name__)

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass
class Classifier:
    """A model ready to score papers.

    Attributes:
        model: The sequence classifier, in eval mode on ``device``.
        tokenizer: Its tokenizer.
        device: Where it runs.
        precision: ``bf16`` or ``fp32``.
        max_length: Tokens per (title, abstract) pair.
        threshold: The folder's recorded decision threshold.
        threshold_source: Where that threshold comes from.
    """

    model: Any
    tokenizer: Any
    device: torch.device
    precision: str
    max_length: int
    threshold: float
    threshold_source: str


def _place(requested: str) -> torch.device:
    if requested in ("auto", "cuda"):
        devices.claim_gpus(1)
    name = devices.resolve_device(requested)
    if name == "tpu":
        import torch_xla.core.xla_model as xm  # type: ignore[import-not-found]

        return xm.xla_device()
    return torch.device(name)


def load_classifier_folder(model_dir: str | Path, device: str, precision: str) -> Classifier:
    """Load a trained model folder for scoring.

    Args:
        model_dir: A folder of the train stage or of ``package_model`` (config, weights, tokenizer).
        device: ``auto``, ``cuda``, ``tpu`` or ``cpu``.
        precision: ``auto``, ``bf16`` or ``fp32``.

    Raises:
        ModelFolderError: If the folder is missing, lacks files or is not a 2-way classifier.
        DeviceError: If the device is not usable here.
    """
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as transformers_logging

    # Its progress bars would leave carriage returns in the job's log.
    transformers_logging.disable_progress_bar()
    info = read_folder_info(model_dir)
    place = _place(device)
    resolved = devices.resolve_precision(
        precision, place.type if place.type != "xla" else "tpu", inference=True
    )
    dtype = torch.bfloat16 if resolved == "bf16" else torch.float32
    try:
        tokenizer = load_tokenizer(str(model_dir))
        model = AutoModelForSequenceClassification.from_pretrained(
            str(model_dir), attn_implementation="sdpa", dtype=dtype
        )
    except (OSError, ValueError, RuntimeError) as error:
        # E.g. weights whose shapes do not fit config.json; the first line says which.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFolderError(f"{model_dir}: cannot load the model ({reason})") from None
    if model.config.num_labels != 2:
        raise ModelFolderError(f"{model_dir}: not a 2-label classifier")
    limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    max_length = min(info.max_length or tokenizer.model_max_length, limit)
    model.to(place).eval()
    logger.info(
        "model %s on %s (%s, attention %s), %d tokens per paper, threshold %.4f (%s)",
        model_dir, place, resolved, model.config._attn_implementation, max_length,
        info.threshold, info.threshold_source,
    )  # fmt: skip
    return Classifier(
        model, tokenizer, place, resolved, max_length, info.threshold, info.threshold_source
    )


def _padded(rows: list[list[int]], width: int, value: int) -> torch.Tensor:
    out = np.full((len(rows), width), value, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return torch.from_numpy(out)


@torch.inference_mode()
def score_papers(
    classifier: Classifier, titles: list[str], abstracts: list[str], batch_size: int
) -> np.ndarray:
    """Probability of the positive class for each (title, abstract) pair, in input order.

    Args:
        classifier: The loaded model.
        titles: Titles.
        abstracts: Abstracts, in the same order.
        batch_size: Pairs per forward pass.

    Returns:
        A float64 array of probabilities.
    """
    if not titles:
        return np.zeros(0, dtype=np.float64)
    encoded = encode_pairs(classifier.tokenizer, titles, abstracts, classifier.max_length)
    columns = [c for c in MODEL_INPUTS if c in encoded]
    lengths = np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    multiple = 8 if classifier.device.type == "cuda" else 1
    pad_id = classifier.tokenizer.pad_token_id or 0
    probabilities = np.empty(len(titles), dtype=np.float64)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        width = -(-int(lengths[batch[0]]) // multiple) * multiple
        inputs = {
            column: _padded(
                [encoded[column][i] for i in batch], width, pad_id if column == "input_ids" else 0
            ).to(classifier.device, non_blocking=True)
            for column in columns
        }
        logits = classifier.model(**inputs).logits.double()
        probabilities[batch] = torch.softmax(logits, dim=-1)[:, 1].cpu().numpy()
    return probabilities
