"""Train the tiny model through the TPU code path on torch_xla's CPU client (PJRT_DEVICE=CPU).

Run by tests/xla/run.sh in the environment of requirements/xla.txt (torch 2.9 + torch_xla 2.9).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthetic_tables import write_tables
from training_settings import training_settings

from arxivcat.model.tokenize import tokenize_splits
from arxivcat.model.train import train_model


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = write_tables(root / "tables", {"train": 160, "validation": 48, "test": 16})
        tokenize_splits(paths, "builtin:tiny-bert", 64, root / "tokenized")
        started = time.monotonic()
        settings = training_settings(
            model="builtin:tiny-bert", max_length=64, num_epochs=1,
            learning_rate=1e-3, train_batch_size=16, device="tpu",
        )  # fmt: skip
        info = train_model(root / "tokenized", root / "model", root / "ckpt", settings, 2)
        state = json.loads((root / "model" / "trainer_state.json").read_text())
        evals = [e for e in state["log_history"] if "eval_f1" in e]
        assert info["device_type"] == "tpu" and info["precision"] == "bf16", info
        assert "torch_xla" in info["framework_versions"], info
        assert len(evals) == 1 and (root / "model" / "model.safetensors").is_file()
        keys = ("device", "precision", "distributed_type", "train_samples_per_second")
        print(json.dumps({k: info[k] for k in (*keys, "framework_versions")}, indent=1))
        print(f"XLA training OK in {time.monotonic() - started:.1f} s; eval: {evals[0]}")


if __name__ == "__main__":
    main()
