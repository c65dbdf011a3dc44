"""Writing report outputs: a path that cannot be written fails in one line that names it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from arxivcat.errors import ArxivcatError


class OutputError(ArxivcatError, RuntimeError):
    """An output that cannot be written (missing folder, no permission, disk full), named."""


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``path`` into an :class:`OutputError`."""
    try:
        yield
    except OSError as error:
        raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None


def check_output_path(path: str | Path) -> Path:
    """Check, before any work, that ``path`` can be created as a file.

    Raises:
        OutputError: If ``path`` is a directory, or its parent is missing, not a directory or
            not writable.
    """
    path = Path(path)
    parent = path.parent
    if path.is_dir():
        raise OutputError(f"{path}: is a directory, not a file to write")
    if not parent.exists():
        raise OutputError(f"{path}: cannot write: folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"{path}: cannot write: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: cannot write: folder {parent} is not writable")
    return path
