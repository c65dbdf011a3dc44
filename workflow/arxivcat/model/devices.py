"""Choice of the training device, and GPU assignment for concurrent local jobs.

Snakemake does not set ``CUDA_VISIBLE_DEVICES`` for local jobs: with ``--resources gpu=N`` it only
guarantees that the running jobs ask for at most N GPUs in total.  Which GPU a job takes is decided
here: when ``CUDA_VISIBLE_DEVICES`` is unset and the machine has more GPUs than the job needs, the
job claims free GPUs by taking an exclusive ``fcntl`` lock on ``gpu-<index>.lock`` in a lock
directory (``$ARXIVCAT_GPU_LOCK_DIR``, default ``<tmp>/arxivcat-gpu-locks``) and sets
``CUDA_VISIBLE_DEVICES`` to them.  The operating system drops a lock when its process ends, killed
or not, so a crashed job never leaves a GPU claimed.  Where a scheduler (SLURM) sets
``CUDA_VISIBLE_DEVICES``, it is respected as is.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from arxivcat.errors import ArxivcatError

logger = logging.getLogger(__name__)

LOCK_DIR_ENV = "ARXIVCAT_GPU_LOCK_DIR"
# Locks held by this process: closing a file would release its lock.
_HELD_LOCKS: list[IO[str]] = []


class DeviceError(ArxivcatError, RuntimeError):
    """A requested device that is not usable here, described in one line."""


def xla_installed() -> bool:
    """Whether ``torch_xla`` can be imported (without importing it)."""
    return importlib.util.find_spec("torch_xla") is not None


def physical_gpu_count() -> int:
    """Count NVIDIA GPUs without initialising CUDA, so ``CUDA_VISIBLE_DEVICES`` can still change."""
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        return sum(1 for _ in proc.iterdir())
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return 0
        return sum(1 for line in out.splitlines() if line.startswith("GPU "))
    return 0


def lock_dir() -> Path:
    """The directory holding the GPU lock files."""
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / "arxivcat-gpu-locks")


def claim_gpus(
    count: int,
    total: int | None = None,
    wait_s: float = 600.0,
    poll_s: float = 5.0,
    directory: Path | None = None,
) -> list[int]:
    """Claim ``count`` free GPUs with lock files and restrict CUDA to them.

    Does nothing when ``CUDA_VISIBLE_DEVICES`` is already set (a scheduler chose) or when the
    machine has no more GPUs than requested.

    Args:
        count: GPUs the job needs.
        total: GPUs on the machine; counted when None.
        wait_s: How long to wait for GPUs held by other jobs before failing.
        poll_s: Seconds between attempts.
        directory: Lock directory; :func:`lock_dir` when None.

    Returns:
        The claimed GPU indices (empty when nothing was claimed).

    Raises:
        DeviceError: If ``count`` GPUs do not become free within ``wait_s``.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return []
    total = physical_gpu_count() if total is None else total
    if total <= count:
        return []
    directory = directory or lock_dir()
    directory.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_s
    while True:
        held: list[tuple[int, IO[str]]] = []
        for index in range(total):
            handle = open(directory / f"gpu-{index}.lock", "a+", encoding="utf-8")  # noqa: SIM115
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            held.append((index, handle))
            if len(held) == count:
                break
        if len(held) == count:
            for _, handle in held:
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
                _HELD_LOCKS.append(handle)
            indices = [index for index, _ in held]
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, indices))
            logger.info("claimed GPU(s) %s (locks in %s)", indices, directory)
            return indices
        for _, handle in held:
            handle.close()
        if time.monotonic() >= deadline:
            raise DeviceError(
                f"no {count} free GPU(s) of {total} after {wait_s:.0f} s: other jobs hold the "
                f"locks in {directory}; lower --resources gpu= or set CUDA_VISIBLE_DEVICES"
            )
        time.sleep(poll_s)


def resolve_device(requested: str) -> str:
    """Turn the ``device`` setting into ``"cuda"``, ``"tpu"`` or ``"cpu"``.

    ``auto`` picks CUDA when a GPU is visible, then a TPU when ``torch_xla`` is installed and
    ``PJRT_DEVICE=TPU``, then the CPU.

    Raises:
        DeviceError: If the requested device is not available, e.g. ``tpu`` without torch_xla.
    """
    import torch

    if requested == "tpu":
        if not xla_installed():
            raise DeviceError(
                "device 'tpu' needs torch_xla, which is not installed in this environment; use "
                "envs/train-tpu.yaml (torch 2.9 + torch_xla[tpu] 2.9) on a TPU VM"
            )
        os.environ.setdefault("PJRT_DEVICE", "TPU")
        return "tpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                "device 'cuda' was requested but no CUDA GPU is visible "
                f"(torch {torch.__version__}, CUDA_VISIBLE_DEVICES="
                f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r})"
            )
        return "cuda"
    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if xla_installed() and os.environ.get("PJRT_DEVICE") == "TPU":
        return "tpu"
    return "cpu"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AMX or AVX512-BF16)."""
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def resolve_precision(requested: str, device: str, inference: bool = False) -> str:
    """Turn the ``precision`` setting into ``"bf16"`` or ``"fp32"`` for ``device``.

    ``auto`` is bf16 on CUDA (when the GPU supports it) and TPU, fp32 on the CPU; for inference
    (the predict stage) also bf16 on a CPU that multiplies bf16 in hardware, where it scores
    about twice as fast as fp32 (``benchmarks/predict_speed.py``).
    """
    import torch

    if requested != "auto":
        return requested
    if device == "tpu":
        return "bf16"
    if device == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if inference and cpu_has_native_bf16() else "fp32"
