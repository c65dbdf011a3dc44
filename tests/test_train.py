"""The train stage on CPU with the tiny model: outputs, metrics, settings, checkpoints, devices.

The shared run is a job as Snakemake starts one: a separate process that logs to a file through
the rule scripts' ``setup_logging``, with its stderr in a file too (as a SLURM job's output).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from training_settings import training_settings
from transformers import (
    AutoModelForSequenceClassification,
    TrainerState,
    TrainingArguments,
)

from arxivcat.config import load_yaml, schema_defaults
from arxivcat.model import (
    checkpoints,
    devices,
    launch,
    tracking,
    train,
    train_progress,
    trainer_extensions,
    training_steps,
)
from arxivcat.model.loading import load_classifier
from arxivcat.model.settings import TrainingSettings
from arxivcat.stage_settings import SettingsError

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {
    "model": "builtin:tiny-bert",
    "max_length": 64,
    "num_epochs": 2,
    "learning_rate": 2e-3,
    "train_batch_size": 16,
    "device": "cpu",
    "keep": "best",
    "logging_steps": 5,
    "report_to": ["tensorboard"],
}
#: A credential in the job's environment, which no file the job writes may contain.
SECRET = "arxivcat-test-secret-3f9a"
INFO_KEYS = {
    "device", "device_count", "precision", "distributed_type", "train_samples_per_second",
    "train_runtime", "train_samples", "best_epoch", "best_validation_f1", "kept",
    "framework_versions", "hyperparameters",
}  # fmt: skip
# One job: tokenize the tables, train, evaluate; logging as the rule scripts set it up.
JOB = """
import json, sys
from pathlib import Path
from arxivcat.io.runlog import setup_logging
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.tokenize import tokenize_splits
from arxivcat.model.train import train_model
from synthetic_tables import write_tables
from training_settings import training_settings

root, settings = Path(sys.argv[1]), training_settings(**json.loads(sys.argv[2]))
setup_logging(root / "job.log")
paths = write_tables(root / "tables")
tokenize_splits(paths, "builtin:tiny-bert", 64, root / "tokenized", num_proc=1)
train_model(root / "tokenized", root / "model", root / "checkpoints", settings, num_workers=2)
evaluate_model(root / "model", root / "tokenized", root / "eval" / "metrics.json",
               root / "eval" / "predictions.parquet", settings)
"""


def run_job(root: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as a job process (stdout and stderr to files, not a terminal)."""
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    env |= {"WANDB_API_KEY": SECRET, "HF_TOKEN": SECRET, "MLFLOW_TRACKING_PASSWORD": SECRET}
    with open(root / "stderr.txt", "w") as err, open(root / "stdout.txt", "w") as out:
        done = subprocess.run(
            [sys.executable, "-c", code, str(root), *args],
            stdout=out, stderr=err, env=env, timeout=600, check=False,
        )  # fmt: skip
    done.stderr = (root / "stderr.txt").read_text()
    return done


@pytest.fixture(scope="module")
def job(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train")
    done = run_job(root, JOB, json.dumps(SETTINGS))
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def dataset(job) -> Path:
    return job / "tokenized"


@pytest.fixture(scope="module")
def trained(job) -> tuple[Path, Path, dict]:
    model_dir = job / "model"
    return (
        model_dir,
        job / "checkpoints",
        json.loads((model_dir / "training_info.json").read_text()),
    )


def test_model_directory_has_the_contract_files(trained):
    model_dir, store, _ = trained
    names = {p.name for p in model_dir.iterdir()}
    expected = {"model.safetensors", "config.json", "tokenizer.json", "trainer_state.json"}
    assert expected | {"train_results.json", "all_results.json", "training_info.json"} <= names
    assert "training_args.bin" not in names
    assert not (model_dir.parent / "model.partial").exists()
    assert not store.exists(), "the checkpoint store is removed after the final model is written"
    model = AutoModelForSequenceClassification.from_pretrained(model_dir)
    assert model.config.num_labels == 2


def scalars(event_file: Path) -> dict[str, list[float]]:
    """The scalars of a TensorBoard event file (TFRecord framing around Event protos), by tag."""
    from tensorboardX.proto.event_pb2 import Event

    found: dict[str, list[float]] = {}
    data = event_file.read_bytes()
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset : offset + 8])
        event = Event.FromString(data[offset + 12 : offset + 12 + length])
        offset += 12 + length + 4  # length, its CRC, the record, its CRC
        for value in event.summary.value:
            if value.HasField("simple_value"):
                found.setdefault(value.tag, []).append(value.simple_value)
    return found


def test_tensorboard_files_are_written_into_the_model_directory(trained):
    model_dir, store, info = trained
    (event_file,) = (model_dir / "runs").glob("*/events.out.tfevents.*")
    found = scalars(event_file)
    # Two epochs: a validation pass each, and the loss logged every logging_steps.
    assert len(found["eval/f1"]) == 2
    assert max(found["eval/f1"]) == pytest.approx(info["best_validation_f1"], abs=1e-6)
    assert found["train/loss"] and found["train/learning_rate"]
    assert not store.exists()


def test_no_credential_of_the_environment_reaches_any_file_the_job_writes(job):
    for path in job.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_tracker_files_stay_in_the_store_unless_a_server_is_named(tmp_path, monkeypatch):
    for name in ("MLFLOW_TRACKING_URI", "WANDB_DIR"):
        monkeypatch.delenv(name, raising=False)
    env = tracking.tracker_environment(["mlflow", "wandb", "tensorboard"], tmp_path)
    assert env == {
        "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").resolve().as_uri(),
        "WANDB_DIR": str(tmp_path.resolve()),
    }
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking.tracker_environment(["mlflow"], tmp_path) == {}
    assert tracking.tracker_environment([], tmp_path) == {}


def test_report_to_choices_are_trainer_integrations():
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    schema = load_yaml(REPO / "config" / "schema.yaml")["definitions"]["training"]["properties"]
    assert set(schema["report_to"]["items"]["enum"]) <= set(INTEGRATION_TO_CALLBACK)
    assert schema["report_to"]["default"] == []


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
    assert results["train_samples"] == 320
    assert json.loads((model_dir / "all_results.json").read_text()) == results


def test_training_info_records_each_steps_batches_and_time(job, trained):
    from datasets import DatasetDict

    _, _, info = trained
    steps = info["training_steps"]
    train_rows = DatasetDict.load_from_disk(str(job / "tokenized"))["train"]
    real = sum(len(ids) for ids in train_rows["input_ids"])
    # Two epochs of 320 rows in batches of 16: every row twice, each batch padded to its longest.
    assert steps["steps"] == 40 and steps["samples"] == 640
    assert steps["real_tokens"] == 2 * real < steps["padded_tokens"] <= 640 * 64
    first = steps["first_steps"]
    assert len(first) == training_steps.LISTED_STEPS and {s["samples"] for s in first} == {16}
    assert all(s["seconds"] > 0 and s["real_tokens"] <= s["padded_tokens"] for s in first)
    # Validation passes and checkpoints belong to no step: the steps take less than the run.
    assert sum(s["seconds"] for s in first) < steps["seconds"] < info["train_runtime"]
    assert 0 < steps["step_seconds"]["median"] <= steps["step_seconds"]["max"]
    assert steps["samples_per_second"] == pytest.approx(640 / steps["seconds"], rel=0.01)


def test_step_record_sums_micro_batches_into_their_optimizer_step():
    record = training_steps.StepRecord()
    ids = torch.ones(4, 10, dtype=torch.long)
    mask = torch.ones(4, 10, dtype=torch.long)
    mask[:, 7:] = 0  # 7 real tokens a row
    record.on_train_begin(None, None, None)
    for _ in range(2):  # two micro-batches of gradient accumulation
        record.count({"input_ids": ids, "attention_mask": mask})
    record.on_step_end(None, None, None)
    record.count({"input_ids": ids[:2, :5], "attention_mask": mask[:2, :5]})
    record.on_step_end(None, None, None)
    summary = record.summary()
    assert summary["steps"] == 2 and summary["samples"] == 10
    assert [s["padded_tokens"] for s in summary["first_steps"]] == [80, 10]
    assert [s["real_tokens"] for s in summary["first_steps"]] == [56, 10]
    assert summary["real_tokens"] == 66 and summary["padded_tokens"] == 90


def test_last_validation_pass_is_computed_once_and_is_what_a_fresh_pass_gives(job, trained):
    from datasets import DatasetDict

    from arxivcat.model.inference import load_for_inference, place
    from arxivcat.model.split_scoring import VALIDATION_PASS, read_pass, score_split

    model_dir, _, info = trained
    saved = read_pass(model_dir / VALIDATION_PASS)
    # keep: best: the pass of the kept (best) epoch's weights.
    assert info["validation_pass"]["rows"] == 64 and info["kept"] == "best"
    assert info["validation_pass"]["padded_tokens"] >= info["validation_pass"]["real_tokens"]
    log = (job / "job.log").read_text()
    assert "validation: the training's last pass of these weights" in log
    assert len(re.findall(r"validation pass: 64/64 rows \(100.0%\)", log)) == 2, log
    assert len(re.findall(r"test pass: 64/64 rows \(100.0%\)", log)) == 1, log
    # The evaluate stage's validation rows are that pass ...
    metrics = json.loads((job / "eval" / "metrics.json").read_text())
    assert metrics["validation"]["pass"] == saved.stats.to_dict()
    # ... and they are what scoring the saved model afresh gives, to the last bit.
    placement = place("cpu", "auto", 64)
    model = load_for_inference(model_dir, placement)
    split = DatasetDict.load_from_disk(str(job / "tokenized"))["validation"]
    # At the training pass's batch size: bf16 kernels without AMX (AVX512-BF16 alone) round a
    # row differently in batches of another size (seen: 4e-4 on one of 64 probabilities).
    batch = training_settings(**SETTINGS).eval_batch_size
    fresh = score_split(model, split, batch, placement, "validation")
    assert fresh.ids == saved.ids
    np.testing.assert_array_equal(fresh.probabilities, saved.probabilities)
    assert fresh.loss == pytest.approx(saved.loss, abs=1e-12)
    best = max(
        e["eval_f1"]
        for e in json.loads((model_dir / "trainer_state.json").read_text())["log_history"]
        if "eval_f1" in e
    )
    assert metrics["validation"]["f1"] == pytest.approx(best, abs=1e-12)


def test_run_key_follows_result_settings_and_data_only():
    settings = training_settings(**SETTINGS)
    key = checkpoints.run_key(settings, "data-a")
    operational = (
        {"checkpoint_minutes": 5},
        {"dataloader_workers": 3},
        {"progress_seconds": 1},
        {"report_to": ("tensorboard", "mlflow")},
    )
    for change in operational:
        assert checkpoints.run_key(dataclasses.replace(settings, **change), "data-a") == key
    changed = dataclasses.replace(settings, learning_rate=1e-4)
    assert checkpoints.run_key(changed, "data-a") != key
    assert checkpoints.run_key(settings, "data-b") != key


def test_incomplete_checkpoint_is_skipped(tmp_path):
    for step in (10, 20):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "checkpoint-10" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-20" / "trainer_state.json").write_text('{"log_hist')
    assert checkpoints.last_complete_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
    assert checkpoints.last_complete_checkpoint(tmp_path / "none") is None


def test_keep_best_saves_only_improvements(tmp_path):
    model = load_classifier("builtin:tiny-bert", seed=1)
    (tmp_path / "validation-last.parquet").write_bytes(b"the pass of the last evaluation")
    callback = trainer_extensions.KeepBest(tmp_path / "best")
    state = TrainerState()
    for epoch, f1 in ((1.0, 0.5), (2.0, 0.4), (3.0, 0.6)):
        state.epoch = epoch
        state.log_history.append({"eval_f1": f1, "epoch": epoch})
        callback.on_evaluate(None, state, None, metrics={"eval_f1": f1}, model=model)
        saved = json.loads((tmp_path / "best" / "epoch.json").read_text())
        assert saved["epoch"] == {1.0: 1.0, 2.0: 1.0, 3.0: 3.0}[epoch]
    assert (tmp_path / "best" / "model.safetensors").is_file()
    assert (tmp_path / "best" / "validation-last.parquet").read_bytes().startswith(b"the pass")


def test_effective_batch_is_kept_across_devices():
    settings = training_settings(train_batch_size=32, gradient_accumulation_steps=2)
    assert launch.batch_layout(settings, 4) == (4, 2)
    with pytest.raises(launch.TrainingError, match="not divisible by 3 device"):
        launch.batch_layout(settings, 3)


def test_unknown_or_missing_setting_is_rejected():
    with pytest.raises(SettingsError, match=r"^training\.lr: unknown key"):
        TrainingSettings.from_dict({**schema_defaults("training"), "lr": 1})
    partial = {k: v for k, v in schema_defaults("training").items() if k != "keep"}
    with pytest.raises(SettingsError, match=r"^training\.keep: missing"):
        TrainingSettings.from_dict(partial)
    assert training_settings().to_dict() == schema_defaults("training")


def test_settings_fields_are_the_schema_keys_and_the_reference_hyperparameters():
    schema = load_yaml(REPO / "config" / "schema.yaml")["definitions"]["training"]["properties"]
    assert [f.name for f in dataclasses.fields(TrainingSettings)] == list(schema)
    defaults = training_settings()
    reference = {"learning_rate": 7.5e-6, "train_batch_size": 32, "seed": 20230227}
    reference |= {"num_epochs": 3, "lr_scheduler_type": "linear", "max_length": 512}
    assert {key: getattr(defaults, key) for key in reference} == reference
    assert defaults.model == "sentence-transformers/allenai-specter"


def test_tpu_without_torch_xla_fails_at_once(dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(devices, "xla_installed", lambda: False)
    with pytest.raises(devices.DeviceError, match=r"needs torch_xla.*envs/train-tpu\.yaml"):
        settings = training_settings(**{**SETTINGS, "device": "tpu"})
        train.train_model(dataset, tmp_path / "m", tmp_path / "c", settings)
    assert not (tmp_path / "c").exists() and not (tmp_path / "m").exists()


def test_auto_device_and_precision_on_this_machine():
    assert devices.resolve_device("cpu") == "cpu"
    assert devices.resolve_precision("auto", "cpu") == "fp32"
    assert devices.resolve_precision("auto", "tpu") == "bf16"
    assert devices.resolve_precision("bf16", "cpu") == "bf16"
    native = "bf16" if devices.cpu_has_native_bf16() else "fp32"
    assert devices.resolve_precision("auto", "cpu", inference=True) == native


HOLD_LOCK = """
import sys, time
from pathlib import Path
from arxivcat.model import devices
print(devices.claim_gpus(1, total=3, wait_s=0, directory=Path(sys.argv[1])), flush=True)
time.sleep(30)
"""


def test_concurrent_jobs_claim_different_gpus(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    # A job holds its locks until it exits; this test process drops them by closing the files.
    held: list = []
    monkeypatch.setattr(devices, "_HELD_LOCKS", held)

    def release() -> None:
        while held:
            held.pop().close()

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
        release()
    assert devices.claim_gpus(1, total=3, wait_s=0, directory=tmp_path) == [0]
    release()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5")
    assert devices.claim_gpus(1, total=8, directory=tmp_path) == []


def _padded_and_real_tokens(
    dataset: Path, tmp_path: Path, group_by_length: bool
) -> tuple[int, int]:
    """Tokens of the train stage's training batches: (padded, real), over one epoch."""
    from datasets import DatasetDict
    from transformers import AutoTokenizer

    data = DatasetDict.load_from_disk(str(dataset))
    columns = [c for c in trainer_extensions.MODEL_COLUMNS if c in data["train"].column_names]
    rows = data["train"].select_columns(columns)
    settings = training_settings(**{**SETTINGS, "group_by_length": group_by_length})
    tokenizer = AutoTokenizer.from_pretrained(str(dataset / "tokenizer"))
    trainer = trainer_extensions.ArxivcatTrainer(
        model=load_classifier("builtin:tiny-bert", seed=1),
        args=trainer_extensions.training_arguments(settings, "cpu", "fp32", tmp_path, 10, 1, "run"),
        train_dataset=rows,
        eval_dataset=data["validation"].select_columns(columns),
        processing_class=tokenizer,
        data_collator=trainer_extensions.data_collator(tokenizer, "cpu", 64),
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


PROGRESS = re.compile(
    r"step (\d+)/40 \(\d+%\), epoch [\d.]+/2, loss \d+\.\d{4}, lr [\d.e+-]+, "
    r"[\d.]+ samples/s, elapsed \d+:\d\d:\d\d, ETA \d+:\d\d:\d\d$"
)


def test_train_log_has_a_progress_line_every_logging_steps_and_each_validation(job):
    log = (job / "job.log").read_text()
    steps = [int(m.group(1)) for line in log.splitlines() if (m := PROGRESS.search(line))]
    # logging_steps 5 over 40 steps; progress_seconds (60) never passes first on this tiny run.
    assert steps == list(range(5, 41, 5)), log
    validations = re.findall(r"validation at step (\d+) \(epoch ([\d.]+)\): f1 [\d.]+", log)
    assert validations == [("20", "1.00"), ("40", "2.00")], log
    for split, rows in (("validation", 64), ("test", 64)):
        assert re.search(rf"{split} pass: {rows}/{rows} rows \(100.0%\), .* ETA 0:00:00", log)
    assert re.search(r"tokenize train: 320/320 rows \(100.0%\), [\d.]+ rows/s, .*ETA", log), log


def test_no_carriage_returns_in_the_job_log_or_its_stderr(job):
    for name in ("job.log", "stderr.txt", "stdout.txt"):
        text = (job / name).read_bytes()  # bytes: read_text() would turn each CR into a newline
        assert b"\r" not in text, (name, text[-2000:])
    assert "Writing model shards" not in (job / "stderr.txt").read_text()


def test_progress_line_is_written_at_least_every_progress_seconds(monkeypatch, caplog):
    clock = iter(float(t) for t in range(0, 1000, 7))  # every call: 7 s later
    monkeypatch.setattr(train_progress.time, "monotonic", lambda: next(clock))
    running = train_progress.RunningLoss()
    callback = train_progress.TrainProgress(running, every_steps=1000, every_seconds=20)
    args = TrainingArguments(
        output_dir="unused", per_device_train_batch_size=4, num_train_epochs=1, use_cpu=True
    )
    state = TrainerState(max_steps=10, global_step=0)
    callback.on_train_begin(args, state, None)
    import torch

    written = []
    with caplog.at_level("INFO", logger="arxivcat.model.train_progress"):
        for step in range(1, 11):
            running.add(torch.tensor(0.5))
            state.global_step, state.epoch = step, step / 10
            callback.on_step_end(args, state, None)
            written += [(step, r.getMessage()) for r in caplog.records]
            caplog.clear()
    # 7 s a step: 21 s have passed at step 3, then again at 6 and 9; the last step always logs.
    assert [step for step, _ in written] == [3, 6, 9, 10]
    assert written[0][1].startswith("step 3/10 (30%), epoch 0.30/1, loss 0.5000, lr nan, ")
    assert "0.6 samples/s, elapsed 0:00:21, ETA 0:00:49" in written[0][1]
