"""A trained classifier loaded for scoring, and the scoring of one chunk of papers.

Within a chunk the papers are tokenized in one call and run through the one inference path
(:mod:`arxivcat.model.inference`): sorted by token count, batches padded only to their own longest
row, the precision and device rules the evaluate stage uses, so that the threshold chosen on its
scores labels these the same way; the scores are put back in the chunk's order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arxivcat.model.inference import (
    PassStats,
    Placement,
    Tokens,
    classifier_logits,
    load_for_inference,
    place,
    positive_probabilities,
    run_batches,
)
from arxivcat.model.loading import config_heads, load_tokenizer
from arxivcat.model.tokenize import encode_pairs
from arxivcat.predict.model_folder import ModelFolderError, read_folder_info

logger = logging.getLogger(__name__)


@dataclass
class Classifier:
    """A model ready to score papers.

    Attributes:
        model: The sequence classifier, in eval mode on its placement.
        tokenizer: Its tokenizer.
        placement: Where it runs, and in what precision.
        max_length: Tokens per (title, abstract) pair.
        heads: A multi-head model's heads (one sigmoid each); None for a 2-way classifier.
        stats: What its scoring has done so far (rows, tokens, seconds).
    """

    model: Any
    tokenizer: Any
    placement: Placement
    max_length: int
    heads: list[str] | None
    stats: PassStats

    def record(self) -> dict[str, Any]:
        """What a prediction job's manifest says of the model and its scoring."""
        return {
            "device": self.placement.device.type,
            "precision": self.placement.precision,
            "max_length": self.max_length,
            "tokens": {"real": self.stats.real_tokens, "padded": self.stats.padded_tokens},
        }


def load_classifier_folder(model_dir: str | Path, device: str, precision: str) -> Classifier:
    """Load a trained model folder for scoring.

    Args:
        model_dir: A folder of the train stage or of ``package_model`` (config, weights, tokenizer).
        device: ``auto``, ``cuda``, ``tpu`` or ``cpu``.
        precision: ``auto``, ``bf16`` or ``fp32``.

    Raises:
        ModelFolderError: If the folder is missing, lacks files or is not a classifier of ours
            (two labels, or one sigmoid per head).
        DeviceError: If the device is not usable here.
    """
    info = read_folder_info(model_dir)
    try:
        tokenizer = load_tokenizer(str(model_dir))
    except OSError as error:
        raise ModelFolderError(f"{model_dir}: cannot load the tokenizer ({error})") from None
    max_length = info.max_length or tokenizer.model_max_length
    placement = place(device, precision, max_length)
    try:
        model = load_for_inference(model_dir, placement)
    except (OSError, ValueError, RuntimeError) as error:
        # E.g. weights whose shapes do not fit config.json; the first line says which.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFolderError(f"{model_dir}: cannot load the model ({reason})") from None
    heads = config_heads(model.config)
    if heads is None and model.config.num_labels != 2:
        raise ModelFolderError(
            f"{model_dir}: not a 2-label classifier nor a multi-label one "
            f"({model.config.num_labels} labels, problem_type {model.config.problem_type})"
        )
    limit = int(getattr(model.config, "max_position_embeddings", 512) or 512)
    max_length = min(max_length, limit)
    logger.info(
        "model %s on %s (attention %s), %d tokens per paper, %s",
        model_dir, placement.describe(), model.config._attn_implementation, max_length,
        f"{len(heads)} heads" if heads else "2 labels",
    )  # fmt: skip
    return Classifier(
        model, tokenizer, placement, max_length, heads, PassStats(placement=placement.describe())
    )


def score_papers(
    classifier: Classifier, titles: list[str], abstracts: list[str], batch_size: int
) -> np.ndarray:
    """Probability of the positive class for each (title, abstract) pair, in input order.

    Args:
        classifier: The loaded model; its ``stats`` count this call's work.
        titles: Titles.
        abstracts: Abstracts, in the same order.
        batch_size: Pairs per forward pass.

    Returns:
        A float64 array of probabilities: ``[papers]``, or ``[papers, heads]`` (each head's
        sigmoid) for a multi-head model.
    """
    width = len(classifier.heads) if classifier.heads else None
    if not titles:
        return np.zeros((0, width) if width else 0, dtype=np.float64)
    tokens = Tokens.from_lists(
        encode_pairs(classifier.tokenizer, titles, abstracts, classifier.max_length)
    )
    pad = classifier.tokenizer.pad_token_id or 0
    logits, stats = run_batches(
        classifier_logits(classifier.model), tokens, batch_size, classifier.placement, pad
    )
    total = classifier.stats
    total.rows += stats.rows
    total.batches += stats.batches
    total.real_tokens += stats.real_tokens
    total.padded_tokens += stats.padded_tokens
    total.seconds += stats.seconds
    total.cpu_seconds += stats.cpu_seconds
    return positive_probabilities(logits, classifier.heads is not None)
