"""A training run killed mid-epoch (SIGKILL) resumes from its checkpoint and ends as uninterrupted.

Each run is a separate Python process, as a Snakemake job is.  The killed run dies by SIGKILL three
optimizer steps after its mid-epoch checkpoint at step 25 (of 40), so the rerun has to load the
model, optimizer, scheduler, RNG and data position from the checkpoint store and redo those steps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file
from synthetic_tables import write_tiny_tokenized

SETTINGS = {
    "model": "builtin:tiny-bert",
    "max_length": 64,
    "num_epochs": 2,
    "learning_rate": 1e-3,
    "train_batch_size": 16,
    "device": "cpu",
    "checkpoint_steps": 5,
    "checkpoint_minutes": 0,
}
# The child process: train, and SIGKILL itself when the optimizer reaches step KILL_AT.
CHILD = """
import json, logging, os, signal, sys
logging.basicConfig(level=logging.INFO)
from arxivcat.model import checkpoints, train
from training_settings import training_settings
dataset, output, store, settings, kill_at = sys.argv[1:6]
kill_at = int(kill_at)
step_end = checkpoints.CheckpointPolicy.on_step_end
def on_step_end(self, args, state, control, **kwargs):
    if state.global_step == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return step_end(self, args, state, control, **kwargs)
checkpoints.CheckpointPolicy.on_step_end = on_step_end
settings = training_settings(**json.loads(settings))
train.train_model(dataset, output, store, settings, num_workers=2)
"""


def run_training(dataset: Path, output: Path, store: Path, kill_at: int = 0):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(dataset), str(output), str(store),
         json.dumps(SETTINGS), str(kill_at)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def eval_entries(model_dir: Path) -> list[dict]:
    state = json.loads((model_dir / "trainer_state.json").read_text())
    keys = ("epoch", "step", "eval_loss", "eval_accuracy", "eval_f1", "eval_precision")
    return [{k: e[k] for k in keys} for e in state["log_history"] if "eval_f1" in e]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_tiny_tokenized(tmp_path_factory.mktemp("resume"))


def test_killed_run_resumes_and_matches_uninterrupted_run(dataset, tmp_path):
    reference = run_training(dataset, tmp_path / "reference", tmp_path / "store-reference")
    assert reference.returncode == 0, reference.stderr[-3000:]

    model, store = tmp_path / "model", tmp_path / "store"
    killed = run_training(dataset, model, store, kill_at=28)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not model.exists()
    (run,) = store.glob("run-*")
    assert [p.name for p in run.glob("checkpoint-*")] == ["checkpoint-25"]

    resumed = run_training(dataset, model, store)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "RESUMING from checkpoint" in resumed.stderr
    assert "checkpoint-25" in resumed.stderr
    info = json.loads((model / "training_info.json").read_text())
    assert info["resumed_from_step"] == 25

    # Same evaluation metrics at every epoch, same final weights, same mean training loss.
    expected, got = eval_entries(tmp_path / "reference"), eval_entries(model)
    assert len(got) == 2
    for want, have in zip(expected, got, strict=True):
        assert have == pytest.approx(want, rel=1e-5, abs=1e-6)
    reference_weights = load_file(tmp_path / "reference" / "model.safetensors")
    weights = load_file(model / "model.safetensors")
    assert reference_weights.keys() == weights.keys()
    for name, tensor in reference_weights.items():
        assert (weights[name] - tensor).abs().max().item() < 1e-5, name
    train_loss = [json.loads((d / "train_results.json").read_text())["train_loss"]
                  for d in (tmp_path / "reference", model)]  # fmt: skip
    assert train_loss[1] == pytest.approx(train_loss[0], rel=1e-5)

    # The checkpoint store is gone once the model is written.
    assert not store.exists()
    assert not (tmp_path / "store-reference").exists()
