"""Multi-process training: the multi-GPU launcher's command line, run as DDP on two CPU processes.

The train stage re-launches itself as ``python -m torch.distributed.run -m arxivcat.model.train``
when a job sees several GPUs.  No GPU is here, so this runs the same entry point with two CPU (gloo)
processes: it shows that the distributed code path trains, that only process 0 writes the model
(and refits its heads), and that the effective batch stays the experiment's batch size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import DatasetDict
from synthetic_tables import write_tiny_tokenized
from training_settings import TINY_TRAINING

from arxivcat.config import schema_defaults
from arxivcat.model.inference import load_for_inference, place
from arxivcat.model.launch import batch_layout
from arxivcat.model.refit_heads import sample_rows
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.split_scoring import VALIDATION_PASS, read_pass, score_split

REPO = Path(__file__).resolve().parents[1]
# With the head refit (on a sample of the rows): process 0 refits after training while the other
# has already returned.
SETTINGS = {**TINY_TRAINING, "logging_steps": 5, "refit_heads": True, "refit_max_rows": 200}


def test_two_process_ddp_training_keeps_the_effective_batch(tmp_path: Path) -> None:
    dataset = write_tiny_tokenized(tmp_path)
    settings_file = tmp_path / "settings.json"
    # The relauncher writes every key (TrainingSettings.to_dict); main() refuses fewer.
    settings_file.write_text(json.dumps({**schema_defaults("training"), **SETTINGS}))
    model_dir, store = tmp_path / "model", tmp_path / "checkpoints"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        "-m", "arxivcat.model.train", f"--dataset-dir={dataset}", f"--output-dir={model_dir}",
        f"--checkpoint-dir={store}", f"--settings={settings_file}", "--num-workers=1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "workflow"), "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("two-process training did not finish in 300 s")
    assert done.returncode == 0, done.stderr[-3000:]

    info = json.loads((model_dir / "training_info.json").read_text())
    assert info["device_count"] == 2
    assert info["distributed_type"] == "MULTI_CPU"
    settings = TrainingSettings.from_dict(json.loads(settings_file.read_text()))
    train = DatasetDict.load_from_disk(str(dataset))["train"]
    sampled = len(sample_rows(train, 200, settings.seed))  # its rare class's positives added
    assert info["head_refit"]["rows"]["train"] == sampled and 200 <= sampled < 320
    assert info["head_refit"]["train_rows_available"] == 320
    # Process 0 refits on the features of the last epoch's pass, gathered from both processes
    # in the split's order: the pass it saves is what the saved model gives afresh.
    assert info["head_refit"]["validation_features"] == "the last epoch's pass"
    validation = DatasetDict.load_from_disk(str(dataset))["validation"]
    placement = place("cpu", "auto")
    model = load_for_inference(model_dir, placement)
    fresh = score_split(model, validation, settings.eval_batch_size, placement, "validation")
    saved = read_pass(model_dir / VALIDATION_PASS)
    assert saved.ids == fresh.ids
    np.testing.assert_allclose(saved.probabilities, fresh.probabilities, atol=2e-3)
    state = json.loads((model_dir / "trainer_state.json").read_text())
    per_device, _ = batch_layout(settings, 2)
    assert state["train_batch_size"] == per_device == 8
    # 320 training rows at an effective batch of 16 (8 on each of 2 processes): 20 steps.
    assert state["global_step"] == 20
    assert [e["epoch"] for e in state["log_history"] if "eval_f1" in e] == [1.0]
    assert (model_dir / "model.safetensors").is_file()
    assert not store.exists(), "the checkpoint store is removed after the final model is written"
