"""A base encoder used as its family intends for embeddings: its weights as they are, its pooling.

The embed stage runs an experiment's ``training.model`` before any fine-tuning.  A paper's
embedding is the encoder's last hidden states pooled as the model's sentence-transformers
configuration says, when it ships one: ``1_Pooling/config.json`` (the CLS token for
allenai-specter, the mean over real tokens for MiniLM) and, when ``modules.json`` lists a
``Normalize`` module (MiniLM's does), scaled to unit length.  A model without such a configuration
is pooled at its CLS token, the position BERT's classification head reads.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from arxivcat.model.inference import Forward, Placement
from arxivcat.model.loading import (
    BUILTIN_PREFIX,
    ModelNotAvailableError,
    ModelSource,
    resolve_model,
    tiny_bert_config,
)

logger = logging.getLogger(__name__)

POOLING_CONFIG = "1_Pooling/config.json"
MODULES = "modules.json"
#: ``builtin:tiny-bert`` has random weights: the encoder's are drawn from this seed, every time.
TINY_ENCODER_SEED = 0
# sentence-transformers' pooling flags and the modes they stand for (one must be set).
_MODES = {
    "pooling_mode_cls_token": "cls",
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_max_tokens": "max",
}


class EncoderError(ModelNotAvailableError):
    """A base encoder that cannot be used for embeddings, described in one line."""


@dataclass(frozen=True)
class Pooling:
    """How token states become a paper's embedding.

    Attributes:
        mode: ``cls`` (the first token's state), ``mean`` (over real tokens) or ``max``.
        normalize: Whether embeddings are scaled to unit length.
        source: Where the choice comes from, in words (the card quotes it).
    """

    mode: str
    normalize: bool
    source: str

    def describe(self) -> str:
        """``mean pooling, unit length``: what the card and records call it."""
        return f"{self.mode.upper() if self.mode == 'cls' else self.mode} pooling" + (
            ", unit length" if self.normalize else ""
        )

    def to_dict(self) -> dict[str, Any]:
        """The record the embed stage writes."""
        return {
            "mode": self.mode,
            "normalize": self.normalize,
            "source": self.source,
            "description": self.describe(),
        }


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """Pool ``hidden`` (``[batch, tokens, width]``) into ``[batch, width]`` float32 embeddings.

    Padding (``attention_mask`` 0) never counts: batches are padded to their own longest row, so
    a paper's embedding must not depend on the papers it is batched with.
    """
    states = hidden.float()
    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    if pooling.mode == "cls":
        out = states[:, 0]
    elif pooling.mode == "mean":
        out = (states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
    else:
        out = states.masked_fill(mask == 0, float("-inf")).amax(dim=1)
    return torch.nn.functional.normalize(out, dim=-1) if pooling.normalize else out


def pooled_forward(model: torch.nn.Module, pooling: Pooling) -> Forward:
    """The forward function of :func:`~arxivcat.model.inference.run_batches`: pooled states."""

    def forward(inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        return pool(model(**inputs).last_hidden_state, inputs["attention_mask"], pooling)

    return forward


def _model_file(source: ModelSource, name: str) -> Path | None:
    """A file of the model's folder or Hub repository, when it has one (the cache first)."""
    if source.kind != "hub":
        path = Path(source.path, name)
        return path if path.is_file() else None
    from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import EntryNotFoundError

    cached = try_to_load_from_cache(source.path, name)
    if isinstance(cached, str):
        return Path(cached)
    if cached is not None or constants.HF_HUB_OFFLINE:  # known absent, or cannot ask
        return None
    try:
        return Path(hf_hub_download(source.path, name))
    except EntryNotFoundError:
        return None


def read_pooling(ref: str) -> Pooling:
    """The pooling a model reference's own configuration asks for (CLS without one).

    Raises:
        EncoderError: If the configuration asks for no pooling mode, several, or one that is
            not ``cls``, ``mean`` or ``max``.
        ModelNotAvailableError: If the reference cannot be resolved.
    """
    if ref == f"{BUILTIN_PREFIX}tiny-bert":
        return Pooling("cls", False, "the default: builtin:tiny-bert has no pooling configuration")
    source = resolve_model(ref)
    config_path = _model_file(source, POOLING_CONFIG)
    if config_path is None:
        return Pooling("cls", False, f"the default: {ref} ships no {POOLING_CONFIG}")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    chosen = [flag for flag, value in config.items() if flag.startswith("pooling_mode") and value]
    if len(chosen) != 1 or chosen[0] not in _MODES:
        raise EncoderError(
            f"{ref}: {POOLING_CONFIG} asks for {', '.join(chosen) or 'no pooling mode'}; "
            f"one of {', '.join(_MODES)} is supported"
        )
    modules_path = _model_file(source, MODULES)
    modules = json.loads(modules_path.read_text(encoding="utf-8")) if modules_path else []
    normalize = any(str(m.get("type", "")).endswith(".Normalize") for m in modules)
    where = f"the model's {POOLING_CONFIG}"
    return Pooling(
        _MODES[chosen[0]],
        normalize,
        where + (f" and the Normalize module of its {MODULES}" if normalize else ""),
    )


def load_encoder(ref: str, placement: Placement) -> torch.nn.Module:
    """The base encoder of ``ref`` (no classification head), on ``placement``, in eval mode.

    Raises:
        ModelNotAvailableError: If the reference cannot be resolved.
        OSError: From ``from_pretrained`` when the weights cannot be loaded.
    """
    from transformers import AutoModel, AutoTokenizer, BertModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    source = resolve_model(ref)
    attention = "eager" if placement.device.type == "xla" else "sdpa"
    if ref == f"{BUILTIN_PREFIX}tiny-bert":
        config = tiny_bert_config(len(AutoTokenizer.from_pretrained(source.path)))
        config._attn_implementation = attention
        torch.manual_seed(TINY_ENCODER_SEED)
        model = BertModel(config, add_pooling_layer=False).to(placement.dtype)
    else:
        model = AutoModel.from_pretrained(
            source.path, attn_implementation=attention, dtype=placement.dtype
        )
    return model.to(placement.device).eval()
