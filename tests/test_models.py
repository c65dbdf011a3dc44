"""Model resolution: built-ins, local directories, Hub ids from the offline cache, clear errors."""

from __future__ import annotations

import pytest
import torch
from huggingface_hub import constants
from safetensors.torch import load_file

from arxivcat.model import loading as models


def test_tiny_bert_is_small_seeded_and_uses_the_minilm_vocabulary():
    first = models.load_classifier("builtin:tiny-bert", seed=7)
    again = models.load_classifier("builtin:tiny-bert", seed=7)
    other = models.load_classifier("builtin:tiny-bert", seed=8)
    config = first.config
    assert (config.num_hidden_layers, config.hidden_size, config.intermediate_size) == (2, 32, 64)
    assert config.num_labels == 2
    assert config.vocab_size == len(models.load_tokenizer("builtin:tiny-bert"))
    weights = first.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in again.state_dict().items())
    assert not torch.equal(weights["classifier.weight"], other.state_dict()["classifier.weight"])
    assert config._attn_implementation == "sdpa"


def test_minilm_loads_the_packaged_encoder_weights_with_a_new_head():
    model = models.load_classifier("builtin:minilm", seed=1)
    shipped = load_file(models.minilm_dir() / "model.safetensors")
    state = model.state_dict()
    key = "embeddings.word_embeddings.weight"
    shipped_key = key if key in shipped else f"bert.{key}"
    assert torch.equal(state[f"bert.{key}"], shipped[shipped_key])
    assert state["classifier.weight"].shape == (2, 384)
    assert model.config.id2label == {0: "negative", 1: "positive"}


def test_local_directory_round_trip(tmp_path):
    saved = models.load_classifier("builtin:tiny-bert", seed=3)
    saved.save_pretrained(tmp_path / "m")
    models.load_tokenizer("builtin:tiny-bert").save_pretrained(tmp_path / "m")
    assert models.resolve_model(str(tmp_path / "m")).kind == "directory"
    loaded = models.load_classifier(str(tmp_path / "m"), seed=99)
    assert torch.equal(
        loaded.state_dict()["classifier.weight"], saved.state_dict()["classifier.weight"]
    )


def fake_hub_cache(cache, repo_id: str, source) -> None:
    """Lay out ``source``'s files as the Hugging Face cache holds a downloaded snapshot."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    for path in source.iterdir():
        (snapshot / path.name).write_bytes(path.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)


def test_hub_id_loads_offline_from_the_cache(tmp_path, monkeypatch):
    source = tmp_path / "src"
    models.load_classifier("builtin:tiny-bert", seed=3).save_pretrained(source)
    models.load_tokenizer("builtin:tiny-bert").save_pretrained(source)
    cache = tmp_path / "hub"
    fake_hub_cache(cache, "example-org/tiny-specter", source)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert models.resolve_model("example-org/tiny-specter").kind == "hub"
    model = models.load_classifier("example-org/tiny-specter", seed=0, cache_dir=str(cache))
    assert model.config.num_hidden_layers == 2


def test_missing_hub_model_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(models.ModelNotAvailableError) as error:
        models.resolve_model("sentence-transformers/allenai-specter")
    message = str(error.value)
    assert "not in the local Hugging Face cache" in message
    assert "offline" in message and "\n" not in message


@pytest.mark.parametrize(
    ("ref", "message"),
    [("builtin:gpt5", "unknown built-in model"), ("./no/such/dir", "does not exist")],
)
def test_bad_references_fail_in_one_line(ref, message):
    with pytest.raises(models.ModelNotAvailableError, match=message):
        models.resolve_model(ref)


def test_directory_without_config_is_rejected(tmp_path):
    with pytest.raises(models.ModelNotAvailableError, match=r"no config\.json"):
        models.resolve_model(str(tmp_path))
