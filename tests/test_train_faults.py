"""Faults of the model stages: a full disk, a refused write, and a job stopped by a signal.

Each error a user sees is one line naming the path, without a traceback, and leaves nothing that a
rerun would take for finished.  Root (as in CI containers) ignores permission bits, so a refused
write is simulated where the library writes; the file-size limit (RLIMIT_FSIZE) is real.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import DatasetDict
from synthetic_tables import write_tables, write_tiny_tokenized
from tiny_run import write_model_dir, write_tokenized
from tiny_run import write_tables as write_experiment_tables
from training_settings import TINY_TRAINING, training_settings

from arxivcat.model import evaluate, storage, tokenize
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.train import train_model

SETTINGS = TINY_TRAINING
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
# A training job whose files may not grow beyond 1 MB: the first checkpoint (4 MB of weights)
# fails as on a full disk.
LIMITED_JOB = """
import json, resource, signal, sys
from pathlib import Path
from arxivcat.io.runlog import setup_logging
from arxivcat.model.train import train_model
from training_settings import TINY_TRAINING, training_settings

root, dataset = Path(sys.argv[1]), sys.argv[2]
setup_logging(root / "train.log")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
settings = training_settings(**json.loads(sys.argv[3]))
train_model(dataset, root / "model", root / "checkpoints", settings, num_workers=1)
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return write_tiny_tokenized(tmp_path_factory.mktemp("faults"))


def test_file_size_limit_during_training_is_one_line_naming_the_checkpoint_store(dataset, tmp_path):
    settings = {**SETTINGS, "checkpoint_steps": 5}
    done = subprocess.run(
        [sys.executable, "-c", LIMITED_JOB, str(tmp_path), str(dataset), json.dumps(settings)],
        capture_output=True, text=True, env=ENV, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-3000:]
    log = (tmp_path / "train.log").read_text()
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert len(errors) == 1, log[-3000:]
    (run,) = (tmp_path / "checkpoints").glob("run-*")
    assert f"cannot write the checkpoint store {run}" in errors[0]
    assert "file too large" in errors[0] and "retrying the job as it is" in errors[0]
    assert "Traceback" not in log and "Traceback" not in done.stderr
    assert not (tmp_path / "model").exists()
    # The cut checkpoint is not taken for complete by a rerun.
    assert all(not (c / "trainer_state.json").exists() for c in run.glob("checkpoint-*"))


def test_full_disk_stops_training_before_the_first_step(dataset, tmp_path, monkeypatch):
    usage = storage.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(storage.shutil, "disk_usage", lambda _: usage._replace(free=1 << 20))
    started = time.monotonic()
    with pytest.raises(storage.StorageError) as raised:
        train_model(dataset, tmp_path / "model", tmp_path / "ckpt", training_settings(**SETTINGS))
    message = str(raised.value)
    assert message.startswith(f"not enough space for training in {tmp_path / 'ckpt'}/run-")
    assert "1 MB free, at least 15 MB needed" in message and "\n" not in message
    assert time.monotonic() - started < 60
    assert not (tmp_path / "model").exists()


def test_full_disk_while_saving_predictions_names_the_file(tmp_path, monkeypatch):
    tokenized = write_tokenized(write_experiment_tables(tmp_path / "data"), tmp_path / "tokenized")
    model = write_model_dir(tmp_path / "model", SETTINGS)
    settings = training_settings(**SETTINGS)

    def no_space(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(evaluate.pq, "write_table", no_space)
    predictions = tmp_path / "eval" / "predictions.parquet"
    with pytest.raises(storage.StorageError) as raised:
        evaluate_model(model, tokenized, tmp_path / "eval" / "m.json", predictions, settings)
    assert str(raised.value).startswith(
        f"cannot write the predictions {predictions}: no space left on device;"
    )
    assert sorted(p.name for p in (tmp_path / "eval").iterdir()) == []


def test_refused_write_of_the_tokenized_dataset_names_the_path_and_leaves_nothing(
    tmp_path, monkeypatch
):
    paths = write_tables(tmp_path / "tables", {"train": 20, "validation": 10, "test": 10})
    output = tmp_path / "tokenized"

    def refused(self, where, **kwargs):
        Path(where).mkdir(parents=True)
        (Path(where) / "dataset_dict.json").write_text("{")
        raise PermissionError(errno.EACCES, "Permission denied", str(Path(where) / "train"))

    monkeypatch.setattr(DatasetDict, "save_to_disk", refused)
    with pytest.raises(storage.StorageError) as raised:
        tokenize.tokenize_splits(paths, "builtin:tiny-bert", 32, output)
    assert str(raised.value).startswith(
        f"cannot write the tokenized dataset {tmp_path / 'tokenized.partial' / 'train'}: "
        "permission denied;"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (Exception("I/O error: No space left on device (os error 28)"), "no space left"),
        (RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 6"), None),
        (
            RuntimeError("PytorchStreamWriter failed writing file data/0: file write failed"),
            "write",
        ),
        (OSError("[Errno 122] Disk quota exceeded"), "disk quota exceeded"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only file system"),
        (ValueError("not a storage problem"), None),
    ],
)
def test_storage_errors_are_recognised_in_each_library_s_words(error, problem):
    found = storage.storage_problem(error)
    assert (found is None) if problem is None else found.startswith(problem)


# The train job relaunched under torchrun (two CPU processes), as with several GPUs.
RELAUNCHED_JOB = """
import json, sys
from pathlib import Path
from arxivcat.io.runlog import setup_logging
from arxivcat.model.launch import relaunch
from training_settings import TINY_TRAINING, training_settings

root, dataset = Path(sys.argv[1]), Path(sys.argv[2])
setup_logging(root / "train.log")
settings = training_settings(**json.loads(sys.argv[3]))
relaunch(dataset, root / "model", root / "checkpoints", settings, 2, processes=2)
"""


def processes_mentioning(text: str) -> list[int]:
    """Pids of the processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_sigterm_stops_torchrun_and_its_workers_and_fails_the_job(dataset, tmp_path):
    settings = {**SETTINGS, "num_epochs": 50}
    job = subprocess.Popen(
        [sys.executable, "-c", RELAUNCHED_JOB, str(tmp_path), str(dataset), json.dumps(settings)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**ENV, "OMP_NUM_THREADS": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not list((tmp_path / "checkpoints").glob("run-*/run.json")):
            assert job.poll() is None and time.monotonic() < deadline, job.stdout.read()
            time.sleep(0.5)
        workers = [p for p in processes_mentioning(str(tmp_path)) if p != job.pid]
        assert len(workers) >= 3, workers  # torchrun and its two training processes
        job.send_signal(signal.SIGTERM)
        output, _ = job.communicate(timeout=120)
    finally:
        job.kill()
    assert job.returncode == 1, output[-3000:]
    log = (tmp_path / "train.log").read_text()
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "training interrupted by SIGTERM" in errors[0], log[-3000:]
    time.sleep(1)
    assert processes_mentioning(str(tmp_path)) == [], "torchrun or a worker outlived the job"
    assert not (tmp_path / "model").exists()
    assert not list(tmp_path.glob("checkpoints/settings-*.json"))
