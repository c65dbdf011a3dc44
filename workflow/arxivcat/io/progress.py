"""Progress of long work as plain log lines: done/total, percent, rate, elapsed time and ETA.

Rule logs are files (and a SLURM job's output): tqdm bars there turn into carriage-return debris,
so :func:`quiet_progress_bars` switches the libraries' bars off unless stderr is a terminal, and
every stage logs :class:`Progress` lines instead, at most one every ``every`` seconds.  Downloads,
tokenization, evaluation and prediction all use this one class; the train log's own line
(:class:`arxivcat.model.train_progress.TrainProgress`) uses :func:`duration`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable

_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB")


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


def human_bytes(count: float) -> str:
    """``1536000`` -> ``"1.5 MB"`` (decimal units, as download tools show them)."""
    for unit in _BYTE_UNITS:
        if abs(count) < 1000 or unit == _BYTE_UNITS[-1]:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def duration(seconds: float) -> str:
    """``H:MM:SS`` of a number of seconds (``3725`` -> ``"1:02:05"``)."""
    whole = round(max(seconds, 0))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class Progress:
    """Logs how far a piece of work has got, at most once every ``every`` seconds and when done.

    Args:
        logger: Where the lines go.
        what: What is being done, e.g. ``"downloading arxiv.zip"``.
        total: The amount of work when known (bytes or items), else None.
        done: Work already done before this run (a resumed download's first byte).
        every: Minimum seconds between two lines.
        unit: ``"bytes"`` (amounts shown as KB/MB/GB) or an item name (``"rows"``).
        clock: The monotonic clock (tests inject a fake one).
    """

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        total: int | None,
        done: int = 0,
        every: float = 30.0,
        unit: str = "bytes",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.what, self.total, self.every = logger, what, total, every
        self.unit, self.clock = unit, clock
        self.done = self._start = done
        self._began = self._last = clock()
        self._logged: int | None = None

    def _amount(self, count: float) -> str:
        return human_bytes(count) if self.unit == "bytes" else f"{count:.0f}"

    def line(self) -> str:
        """The progress line for the work done so far."""
        elapsed = self.clock() - self._began
        rate = (self.done - self._start) / elapsed if elapsed > 0 else 0.0
        unit = "" if self.unit == "bytes" else f" {self.unit}"
        speed = f"{self._amount(rate) if self.unit == 'bytes' else f'{rate:.1f}'}{unit}/s"
        timing = f"elapsed {duration(elapsed)}"
        if not self.total:
            return f"{self.what}: {self._amount(self.done)}{unit} so far, {speed}, {timing}"
        share = f"{100.0 * self.done / self.total:.1f}%"
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = duration(left) if left is not None else "unknown"
        if self.unit == "bytes":
            amounts = f"{share} ({self._amount(self.done)} of {self._amount(self.total)})"
        else:
            amounts = f"{self._amount(self.done)}/{self._amount(self.total)}{unit} ({share})"
        return f"{self.what}: {amounts}, {speed}, {timing}, ETA {eta}"

    def skip(self, count: int) -> None:
        """Count ``count`` units done by an earlier run (a resumed job), left out of the rate."""
        self.done += count
        self._start += count

    def advance(self, count: int) -> None:
        """Count ``count`` more units of work; log a line when one is due or the work is done."""
        self.done += count
        now = self.clock()
        if now - self._last >= self.every or (self.total and self.done >= self.total):
            self._log(now)

    def finish(self) -> None:
        """Log the closing line, unless the last line already reported this count."""
        if self._logged != self.done:
            self._log(self.clock())

    def _log(self, now: float) -> None:
        self._last, self._logged = now, self.done
        self.logger.info("%s", self.line())
