"""The train stage on CPU with the tiny model: outputs, metrics, settings, checkpoints, devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from synthetic_tables import write_tiny_tokenized
from transformers import AutoModelForSequenceClassification, EvalPrediction, TrainerState

from arxivcat.config import load_yaml
from arxivcat.model import devices, train
from arxivcat.model.loading import load_classifier

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {
    "model": "builtin:tiny-bert",
    "max_length": 64,
    "num_epochs": 2,
    "learning_rate": 2e-3,
    "train_batch_size": 16,
    "device": "cpu",
    "keep": "best",
}
INFO_KEYS = {
    "device", "device_count", "precision", "distributed_type", "train_samples_per_second",
    "train_runtime", "train_samples", "best_epoch", "best_validation_f1", "kept",
    "framework_versions", "hyperparameters",
}  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_tiny_tokenized(tmp_path_factory.mktemp("train"))


@pytest.fixture(scope="module")
def trained(dataset) -> tuple[Path, Path, dict]:
    model_dir = dataset.parent / "model"
    store = dataset.parent / "checkpoints"
    info = train.train_model(dataset, model_dir, store, SETTINGS, num_workers=2)
    return model_dir, store, info


def test_model_directory_has_the_contract_files(trained):
    model_dir, store, _ = trained
    names = {p.name for p in model_dir.iterdir()}
    expected = {"model.safetensors", "config.json", "tokenizer.json", "trainer_state.json"}
    assert expected | {"train_results.json", "training_info.json"} <= names
    assert not (model_dir.parent / "model.partial").exists()
    assert not store.exists(), "the checkpoint store is removed after the final model is written"
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    assert model.config.num_labels == 2


def test_trainer_state_has_per_epoch_validation_metrics(trained):
    model_dir, _, info = trained
    history = json.loads((model_dir / "trainer_state.json").read_text())["log_history"]
    evals = [e for e in history if "eval_f1" in e]
    assert [e["epoch"] for e in evals] == [1.0, 2.0]
    for entry in evals:
        for key in ("eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_loss"):
            assert 0 <= entry[key] <= (1 if key != "eval_loss" else 10), key
    losses = [e for e in history if "loss" in e]
    assert losses and losses[-1]["step"] == evals[-1]["step"], "loss logged at least once per epoch"
    best = max(evals, key=lambda e: e["eval_f1"])
    assert info["best_epoch"] == best["epoch"]
    assert info["best_validation_f1"] == best["eval_f1"]


def test_training_info_records_device_speed_and_settings(trained):
    model_dir, _, _ = trained
    written = json.loads((model_dir / "training_info.json").read_text())
    assert set(written) >= INFO_KEYS
    assert written["device_type"] == "cpu" and written["device_count"] == 1
    assert written["precision"] == "fp32"
    assert written["kept"] == "best"
    assert written["train_samples"] == 320
    assert written["train_samples_per_second"] > 0
    assert {"transformers", "torch", "datasets", "tokenizers"} <= set(written["framework_versions"])
    hyper = written["hyperparameters"]
    assert hyper["learning_rate"] == 2e-3 and hyper["train_batch_size"] == 16
    assert hyper["adam_epsilon"] == 1e-8 and hyper["lr_scheduler_type"] == "linear"
    results = json.loads((model_dir / "train_results.json").read_text())
    assert results["train_samples_per_second"] == written["train_samples_per_second"]


def test_compute_metrics_matches_hand_counts():
    logits = np.array([[0, 1], [1, 0], [0, 1], [0, 1], [1, 0]], dtype=float)
    labels = np.array([1, 1, 0, 1, 0])
    metrics = train.compute_metrics(EvalPrediction(predictions=logits, label_ids=labels))
    # tp=2, fp=1, fn=1, tn=1
    assert metrics == pytest.approx(
        {"accuracy": 3 / 5, "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3}
    )


def test_run_key_follows_result_settings_and_data_only():
    settings = train.complete_settings(SETTINGS)
    key = train.run_key(settings, "data-a")
    assert train.run_key({**settings, "checkpoint_minutes": 5}, "data-a") == key
    assert train.run_key({**settings, "dataloader_workers": 3}, "data-a") == key
    assert train.run_key({**settings, "learning_rate": 1e-4}, "data-a") != key
    assert train.run_key(settings, "data-b") != key


def test_incomplete_checkpoint_is_skipped(tmp_path):
    for step in (10, 20):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "checkpoint-10" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-20" / "trainer_state.json").write_text('{"log_hist')
    assert train.last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
    assert train.last_complete_checkpoint(tmp_path / "none") is None


def test_keep_best_saves_only_improvements(tmp_path):
    model = load_classifier("builtin:tiny-bert", seed=1)
    callback = train.KeepBest(tmp_path / "best")
    state = TrainerState()
    for epoch, f1 in ((1.0, 0.5), (2.0, 0.4), (3.0, 0.6)):
        state.epoch = epoch
        state.log_history.append({"eval_f1": f1, "epoch": epoch})
        callback.on_evaluate(None, state, None, metrics={"eval_f1": f1}, model=model)
        saved = json.loads((tmp_path / "best" / "epoch.json").read_text())
        assert saved["epoch"] == {1.0: 1.0, 2.0: 1.0, 3.0: 3.0}[epoch]
    assert (tmp_path / "best" / "model.safetensors").is_file()


def test_effective_batch_is_kept_across_devices():
    settings = train.complete_settings({"train_batch_size": 32, "gradient_accumulation_steps": 2})
    assert train.batch_layout(settings, 4) == (4, 2)
    with pytest.raises(train.TrainingError, match="not divisible by 3 device"):
        train.batch_layout(settings, 3)


def test_unknown_setting_is_rejected():
    with pytest.raises(train.TrainingError, match=r"unknown training setting.*lr"):
        train.complete_settings({"lr": 1})


def test_defaults_are_the_schemas_and_the_reference_hyperparameters():
    schema = load_yaml(REPO / "config" / "schema.yaml")["definitions"]["training"]["properties"]
    assert set(schema) == set(train.DEFAULTS)
    reference = {"learning_rate": 7.5e-6, "train_batch_size": 32, "seed": 20230227}
    reference |= {"num_epochs": 3, "lr_scheduler_type": "linear", "max_length": 512}
    assert {key: train.DEFAULTS[key] for key in reference} == reference
    assert train.DEFAULTS["model"] == "sentence-transformers/allenai-specter"


def test_tpu_without_torch_xla_fails_at_once(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "xla_installed", lambda: False)
    with pytest.raises(devices.DeviceError, match=r"needs torch_xla.*envs/train-tpu\.yaml"):
        train.train_model(dataset, tmp_path / "m", tmp_path / "c", {**SETTINGS, "device": "tpu"})
    assert not (tmp_path / "c").exists() and not (tmp_path / "m").exists()


def test_auto_device_and_precision_on_this_machine():
    assert devices.resolve_device("cpu") == "cpu"
    assert devices.resolve_precision("auto", "cpu") == "fp32"
    assert devices.resolve_precision("auto", "tpu") == "bf16"
    with pytest.raises(devices.DeviceError, match="unknown device"):
        devices.resolve_device("gpu")


HOLD_LOCK = """
import sys, time
from pathlib import Path
from arxivcat.model import devices
print(devices.claim_gpus(1, total=3, wait_s=0, directory=Path(sys.argv[1])), flush=True)
time.sleep(30)
"""


def test_concurrent_jobs_claim_different_gpus(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": ":".join(sys.path), "PATH": "/usr/bin:/bin"},
    )
    try:
        assert holder.stdout.readline().strip() == "[0]"
        assert devices.claim_gpus(2, total=3, wait_s=0, directory=tmp_path) == [1, 2]
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "1,2"
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
        with pytest.raises(devices.DeviceError, match="no 1 free GPU"):
            devices.claim_gpus(1, total=3, wait_s=0, directory=tmp_path)
    finally:
        holder.kill()
        holder.wait()
        devices.release_gpus()
    assert devices.claim_gpus(1, total=3, wait_s=0, directory=tmp_path) == [0]
    devices.release_gpus()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")
    assert devices.claim_gpus(1, total=8, directory=tmp_path) == []


def _padded_and_real_tokens(
    dataset: Path, tmp_path: Path, group_by_length: bool
) -> tuple[int, int]:
    """Tokens of the train stage's training batches: (padded, real), over one epoch."""
    from datasets import DatasetDict
    from transformers import AutoTokenizer

    data = DatasetDict.load_from_disk(str(dataset))
    columns = [c for c in train.MODEL_COLUMNS if c in data["train"].column_names]
    rows = data["train"].select_columns(columns)
    settings = train.complete_settings({**SETTINGS, "group_by_length": group_by_length})
    tokenizer = AutoTokenizer.from_pretrained(str(dataset / "tokenizer"))
    trainer = train.ArxivcatTrainer(
        model=load_classifier("builtin:tiny-bert", seed=1),
        args=train.training_arguments(settings, "cpu", "fp32", tmp_path, 10, 1),
        train_dataset=rows,
        eval_dataset=data["validation"].select_columns(columns),
        processing_class=tokenizer,
        data_collator=train.data_collator(tokenizer, "cpu", 64),
        train_lengths=[len(ids) for ids in rows["input_ids"]],
    )
    padded = real = 0
    for batch in trainer.get_train_dataloader():
        padded += batch["input_ids"].numel()
        real += int(batch["attention_mask"].sum())
    assert real == sum(len(ids) for ids in rows["input_ids"]), "one epoch covers every row once"
    return padded, real


def test_training_batches_are_length_grouped(dataset, tmp_path):
    grouped, real = _padded_and_real_tokens(dataset, tmp_path / "grouped", True)
    shuffled, _ = _padded_and_real_tokens(dataset, tmp_path / "shuffled", False)
    assert grouped < shuffled, (grouped, shuffled)
    # 320 rows, batch 16: megabatches of 5 batches; random batches of 16 all reach 64 tokens.
    assert grouped <= real * 1.15, "length grouping pads each batch close to its rows' lengths"
