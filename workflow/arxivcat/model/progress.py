"""Progress of long model-stage work as plain log lines: counts, rate, elapsed time and ETA.

Rule logs are files (and a SLURM job's output): tqdm bars there turn into carriage-return debris,
so they are switched off unless stderr is a terminal, and the stages log lines instead.  The train
log's own line comes from :class:`arxivcat.model.trainer_extensions.TrainProgress`.
"""

from __future__ import annotations

import logging
import os
import sys
import time

logger = logging.getLogger(__name__)


def quiet_progress_bars() -> None:
    """Switch off the Hugging Face libraries' progress bars unless stderr is a terminal.

    The environment variables carry the choice to child processes (torchrun workers, dataset
    workers) that import the libraries afresh.
    """
    if sys.stderr.isatty():
        return
    import datasets
    import transformers

    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["HF_DATASETS_DISABLE_PROGRESS_BARS"] = "1"
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def duration(seconds: float) -> str:
    """``H:MM:SS`` of a number of seconds."""
    whole = round(max(seconds, 0))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Progress:
    """Counts work done towards a known total and logs it every ``every_seconds`` and at the end."""

    def __init__(
        self, name: str, total: int, unit: str = "rows", every_seconds: float = 30.0
    ) -> None:
        self.name, self.total, self.unit, self.every_seconds = name, total, unit, every_seconds
        self.done = 0
        self.started = self.last_line = time.monotonic()

    def advance(self, count: int) -> None:
        """Count ``count`` more units; log a line when one is due."""
        self.done += count
        now = time.monotonic()
        if now - self.last_line >= self.every_seconds or self.done >= self.total:
            self.last_line = now
            logger.info("%s", self.line(now))

    def line(self, now: float) -> str:
        """The progress line: done/total, percent, rate, elapsed and ETA."""
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        percent = 100 * self.done / self.total if self.total else 100.0
        return (
            f"{self.name}: {self.done}/{self.total} {self.unit} ({percent:.0f}%), "
            f"{rate:.1f} {self.unit}/s, elapsed {duration(elapsed)}, "
            f"ETA {duration(left) if left == left else '?'}"
        )
