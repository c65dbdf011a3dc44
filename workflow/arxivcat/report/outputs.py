"""Writing report outputs: a path that cannot be written fails in one line that names it."""

from __future__ import annotations

import contextlib
import tempfile
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
    """Check, before any work, that ``path`` can be written as a file.

    Missing folders on the way are fine (they are created when the file is written), as long as
    the nearest existing one is a folder in which a file can be created (a temporary one is, and
    is gone at once).

    Raises:
        OutputError: If ``path`` is a directory, or its nearest existing ancestor is not a
            folder or not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a directory, not a file to write")
    existing = path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{path}: cannot write: {existing} is not a folder")
    try:
        # A real attempt: permission bits say nothing to root, nor about read-only file systems.
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise OutputError(
            f"{path}: cannot write: folder {existing} is not writable ({error.strerror or error})"
        ) from None
    return path
