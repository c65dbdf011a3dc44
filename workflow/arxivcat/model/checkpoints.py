"""The checkpoint store of the train stage: run keys, resume points, when to checkpoint, clean-up.

Checkpoints go to ``checkpoint_dir/run-<key>/``, outside the rule's declared output (which
Snakemake deletes before a job runs).  ``<key>`` hashes the training settings and the tokenized
data, so a run with a changed learning rate never resumes an old one.  A checkpoint counts as
complete once its ``trainer_state.json``, which the Trainer writes last, reads as JSON: one cut
short by a kill or a full disk is skipped.  The store is deleted once the final model is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from arxivcat.io.checksums import file_sha256
from arxivcat.model.launch import is_distributed, rank_zero_decides
from arxivcat.model.settings import OPERATIONAL_KEYS, TrainingSettings
from arxivcat.model.storage import writing

logger = logging.getLogger(__name__)

RUN_PREFIX = "run-"
BEST_SUBDIR = "best"


def dataset_digest(dataset_dir: str | Path) -> str:
    """Return a sha256 over the names and contents of the tokenized dataset's files."""
    root = Path(dataset_dir)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def run_key(settings: TrainingSettings, data_digest: str) -> str:
    """Key of a training run: the settings that affect the result plus the data's digest."""
    relevant = {k: v for k, v in sorted(settings.to_dict().items()) if k not in OPERATIONAL_KEYS}
    blob = json.dumps({"settings": relevant, "data": data_digest}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def last_complete_checkpoint(store: Path) -> Path | None:
    """The newest ``checkpoint-N`` in ``store`` whose trainer state (written last) is readable."""
    candidates = []
    for path in store.glob("checkpoint-*"):
        suffix = path.name.split("-", 1)[1]
        if path.is_dir() and suffix.isdigit():
            candidates.append((int(suffix), path))
    for _, path in sorted(candidates, reverse=True):
        try:
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("ignoring incomplete checkpoint %s (cut short while saving)", path)
            continue
        return path
    return None


def open_store(
    checkpoint_dir: Path, settings: TrainingSettings, dataset_dir: Path
) -> tuple[Path, Path | None]:
    """Create (or find) the run's store; return it and the checkpoint to resume from, if any."""
    data_digest = dataset_digest(dataset_dir)
    key = run_key(settings, data_digest)
    store = checkpoint_dir / f"{RUN_PREFIX}{key}"
    with writing(store, "checkpoint store"):
        store.mkdir(parents=True, exist_ok=True)
        (store / "run.json").write_text(
            json.dumps(
                {
                    "settings": settings.to_dict(),
                    "dataset": str(dataset_dir),
                    "data_sha256": data_digest,
                }
            ),
            encoding="utf-8",
        )
    resume = last_complete_checkpoint(store)
    if resume is not None:
        logger.warning(
            "RESUMING from checkpoint %s: the checkpoint store for these exact settings and data "
            "holds an interrupted run (delete %s to start over)",
            resume,
            store,
        )
    else:
        logger.info("no checkpoint for run %s: training from the start", key)
    return store, resume


def remove_store(store: Path) -> None:
    """Remove a finished run's store, other runs' stores (older settings) and an empty root."""
    shutil.rmtree(store, ignore_errors=True)
    logger.info("checkpoint store %s removed after the final model was written", store)
    for stale in store.parent.glob(f"{RUN_PREFIX}*"):
        logger.info("removing the checkpoint store of an earlier, different run: %s", stale)
        shutil.rmtree(stale, ignore_errors=True)
    with contextlib.suppress(OSError):
        store.parent.rmdir()


class CheckpointPolicy(TrainerCallback):
    """Checkpoint every ``minutes`` of training and at every epoch end.

    In a multi-process run the clock of process 0 decides, broadcast every ``sync_every`` steps, so
    that every process saves at the same step.
    """

    def __init__(self, minutes: float | None, sync_every: int = 20) -> None:
        self.interval = (minutes or 0) * 60
        self.sync_every = sync_every
        self.last = time.monotonic()

    def _due(self, state: TrainerState) -> bool:
        if self.interval <= 0 or (is_distributed() and state.global_step % self.sync_every):
            return False
        return rank_zero_decides(time.monotonic() - self.last >= self.interval)

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Ask for a checkpoint when the interval has passed."""
        if state.global_step >= state.max_steps:
            # The Trainer's own end-of-training save would repeat the epoch-end one.
            control.should_save = False
        elif self._due(state):
            control.should_save = True
        if control.should_save:
            # The Trainer keeps its running training loss in memory only: log it with every
            # checkpoint, so a resumed run's loss log (and train_loss) covers every step.
            control.should_log = True
        return control

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Checkpoint after each epoch's evaluation, which is expensive to repeat."""
        control.should_save = True
        return control

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Restart the clock."""
        self.last = time.monotonic()
        logger.info("checkpoint written at step %d (epoch %.2f)", state.global_step, state.epoch)
        return control
