"""Logging for workflow jobs: to the rule's log file and to stderr, tracebacks included.

Every line passes through :func:`arxivcat.io.redact.redact` on its way out, so a credential that
some library puts into a message or a traceback (a signed URL in a connection error) never
reaches the log file.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

import arxivcat
from arxivcat.errors import ArxivcatError
from arxivcat.io.redact import redact


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message and traceback) has its credentials masked."""

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` as usual, then redact the whole text."""
        return redact(super().format(record))


def setup_logging(log_file: str | Path | None, level: int = logging.INFO) -> logging.Logger:
    """Send ``arxivcat`` and root log records to ``log_file`` and stderr.

    Uncaught exceptions are logged too, so a failed job's log file says why it failed.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, mode="w", encoding="utf-8"))
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=level, handlers=handlers, force=True)

    def log_exception(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        # The package's own errors describe bad input in one line; a traceback would bury it.
        ours = issubclass(kind, ArxivcatError)
        logging.getLogger("arxivcat").error(
            "job failed: %s", error, exc_info=None if ours else (kind, error, trace)
        )

    sys.excepthook = log_exception
    logger = logging.getLogger("arxivcat")
    # Which code ran: a workflow used as a module from git runs a fetched copy of the package.
    logger.info("arxivcat %s from %s", arxivcat.__version__, Path(arxivcat.__file__).parent)
    return logger
