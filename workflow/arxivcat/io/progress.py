"""Progress lines for long work, written to the log (never carriage-return bars).

:class:`Progress` turns a running count into at most one log line every ``every`` seconds:
percent done, rate and ETA when the total is known, the count and rate otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

_BYTE_UNITS = ("B", "KB", "MB", "GB", "TB")


def human_bytes(count: float) -> str:
    """``1536000`` -> ``"1.5 MB"`` (decimal units, as download tools show them)."""
    for unit in _BYTE_UNITS:
        if abs(count) < 1000 or unit == _BYTE_UNITS[-1]:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    """``3725`` -> ``"1 h 2 min"``; ``95`` -> ``"1 min 35 s"``; ``7`` -> ``"7 s"``."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


class Progress:
    """Logs how far a piece of work has got, at most once every ``every`` seconds.

    Args:
        logger: Where the lines go.
        what: What is being done, e.g. ``"downloading arxiv.zip"``.
        total: The amount of work when known (bytes or items), else None.
        done: Work already done before this run (a resumed download's first byte).
        every: Minimum seconds between two lines.
        unit: ``"bytes"`` (amounts shown as KB/MB/GB) or an item name (``"records"``).
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

    def _amount(self, count: float) -> str:
        return human_bytes(count) if self.unit == "bytes" else f"{count:,.0f} {self.unit}"

    def _rate(self, elapsed: float) -> float:
        return (self.done - self._start) / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        """The progress line for the work done so far."""
        elapsed = self.clock() - self._began
        rate = self._rate(elapsed)
        speed = f"{self._amount(rate)}/s"
        if self.total:
            share = 100.0 * self.done / self.total
            left = (self.total - self.done) / rate if rate > 0 else None
            eta = human_duration(left) if left is not None else "unknown"
            return (
                f"{self.what}: {share:.1f}% ({self._amount(self.done)} of "
                f"{self._amount(self.total)}), {speed}, ETA {eta}"
            )
        return f"{self.what}: {self._amount(self.done)} so far, {speed}"

    def advance(self, count: int) -> None:
        """Count ``count`` more units of work; log a line if ``every`` seconds have passed."""
        self.done += count
        now = self.clock()
        if now - self._last >= self.every:
            self._last = now
            self.logger.info("%s", self.line())
