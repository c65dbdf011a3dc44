"""How a training run is laid out over processes, and the torchrun relauncher for several GPUs.

A job that sees several GPUs re-runs itself as ``python -m torch.distributed.run ... -m
arxivcat.model.train`` (the command line of :func:`arxivcat.model.train.main`).  torchrun runs in a
session of its own, so the relauncher decides what reaches it: a SIGINT or SIGTERM of the job
(Ctrl-C on Snakemake, a scheduler's cancel) is forwarded to torchrun, which stops its workers; the
job then fails, and no model directory is written (only a completed run writes one).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import torch

import arxivcat
from arxivcat.errors import ArxivcatError
from arxivcat.model.settings import TrainingSettings

logger = logging.getLogger(__name__)

#: The module whose command line torchrun runs in each process.
ENTRY_MODULE = "arxivcat.model.train"
#: How long torchrun may take to stop its workers after a forwarded signal before it is killed.
STOP_GRACE_S = 60.0


class TrainingError(ArxivcatError, RuntimeError):
    """A training set-up problem or a failed training process, described in one line."""


def world_size() -> int:
    """Processes of this training run (1 unless launched by torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_distributed() -> bool:
    """Whether this process is one of several of an initialised process group."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def batch_layout(settings: TrainingSettings, processes: int) -> tuple[int, int]:
    """Per-device batch and accumulation steps that keep the effective batch at the setting.

    Raises:
        TrainingError: If ``train_batch_size`` is not divisible by processes x accumulation.
    """
    accumulation = settings.gradient_accumulation_steps
    total = settings.train_batch_size
    if total % (processes * accumulation):
        raise TrainingError(
            f"train_batch_size {total} is not divisible by {processes} device(s) x "
            f"{accumulation} gradient accumulation step(s)"
        )
    return total // (processes * accumulation), accumulation


def rank_zero_decides(flag: bool) -> bool:
    """Process 0's ``flag`` on every process (the flag itself outside a process group).

    Every process must call this at the same step, since it is a collective operation.
    """
    if not is_distributed():
        return flag
    if torch.distributed.get_backend() == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    else:
        device = torch.device("cpu")
    tensor = torch.tensor([int(flag)], device=device)
    torch.distributed.broadcast(tensor, src=0)
    return bool(tensor.item())


def relaunch(
    dataset_dir: Path,
    output_dir: Path,
    checkpoint_dir: Path,
    settings: TrainingSettings,
    num_workers: int,
    processes: int,
) -> None:
    """Run this training under torchrun with ``processes`` processes, and wait for it.

    Raises:
        TrainingError: If torchrun fails, or the job is interrupted (SIGINT/SIGTERM, which are
            forwarded to torchrun first).
    """
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    settings_file = checkpoint_dir / f"settings-{os.getpid()}.json"
    settings_file.write_text(json.dumps(settings.to_dict()), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
        "-m",
        ENTRY_MODULE,
        f"--dataset-dir={dataset_dir}",
        f"--output-dir={output_dir}",
        f"--checkpoint-dir={checkpoint_dir}",
        f"--settings={settings_file}",
        f"--num-workers={max(1, num_workers // processes)}",
    ]
    logger.info("%d processes: launching DDP training: %s", processes, " ".join(command))
    try:
        returncode, stopped_by = run_forwarding_signals(command, package_environment())
    finally:
        settings_file.unlink(missing_ok=True)
    if stopped_by is not None:
        raise TrainingError(
            f"training interrupted by {stopped_by.name}: torchrun and its workers were stopped; "
            f"the checkpoints in {checkpoint_dir} let a rerun resume"
        )
    if returncode:
        raise TrainingError(f"distributed training failed with exit code {returncode}")


def package_environment() -> dict[str, str]:
    """This process's environment, with the folder of the running ``arxivcat`` first on PYTHONPATH.

    A conda or container job imports the package through Snakemake's script preamble, which the
    torchrun workers never run: they find the same package through PYTHONPATH instead.
    """
    root = str(Path(arxivcat.__file__).resolve().parent.parent)
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, *inherited])}


def run_forwarding_signals(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[int, signal.Signals | None]:
    """Run ``command`` (in ``env``) in a new session; forward SIGINT and SIGTERM of this process.

    After a forwarded signal the command has :data:`STOP_GRACE_S` seconds to exit before its
    process group is killed.

    Returns:
        The command's exit code and the signal that stopped it (None when none arrived).
    """
    process = subprocess.Popen(command, env=env, start_new_session=True)
    received: list[tuple[signal.Signals, float]] = []

    def forward(number: int, frame: FrameType | None) -> None:
        received.append((signal.Signals(number), time.monotonic()))
        logger.warning("%s received: stopping torchrun (pid %d)", received[-1][0].name, process.pid)
        _signal_group(process.pid, number)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                returncode = process.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                if received and time.monotonic() - received[0][1] > STOP_GRACE_S:
                    logger.warning("torchrun did not stop within %.0f s: killing it", STOP_GRACE_S)
                    _signal_group(process.pid, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return returncode, received[0][0] if received else None


def _signal_group(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, number)
