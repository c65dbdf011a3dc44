"""Progress lines for long loops: done/total, percent, rate, elapsed and ETA, one line each."""

from __future__ import annotations

import logging
import time


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


class Progress:
    """Logs ``what: done/total rows (pct), rate rows/s, elapsed, ETA`` at most every ``interval`` s.

    Log files get plain lines (no carriage returns), so they read the same in a rule's log, on a
    terminal and in a SLURM job's output.
    """

    def __init__(
        self, logger: logging.Logger, what: str, total: int | None, interval: float, done: int = 0
    ) -> None:
        self.logger, self.what, self.total, self.interval = logger, what, total, interval
        self.start_done = self.done = done
        self.started = self.last = time.monotonic()

    def skip(self, rows: int) -> None:
        """Count ``rows`` done earlier (a resumed job): they do not enter the rate."""
        self.done += rows
        self.start_done += rows

    def update(self, rows: int, final: bool = False) -> None:
        """Count ``rows`` more rows; log a line when the interval has passed (always if final)."""
        self.done += rows
        now = time.monotonic()
        if not final and now - self.last < self.interval:
            return
        self.last = now
        elapsed = now - self.started
        rate = (self.done - self.start_done) / max(elapsed, 1e-9)
        if self.total:
            left = max(self.total - self.done, 0)
            eta = _duration(left / rate) if rate > 0 else "unknown"
            share = f"{self.done}/{self.total} rows ({100 * self.done / self.total:.1f}%)"
        else:
            eta, share = "unknown", f"{self.done} rows"
        self.logger.info(
            "%s: %s, %.1f rows/s, elapsed %s, ETA %s",
            self.what,
            share,
            rate,
            _duration(elapsed),
            eta,
        )
