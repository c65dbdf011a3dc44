"""Output files that appear under their final name only once complete.

A stage killed mid-write must never leave a file that looks finished: Snakemake (and the next
stage) would take it for a complete output.  The temporary file beside the output has a name
nobody can guess and is created exclusively, never through a link, so that a file or symbolic link
planted at a predictable name cannot redirect the write.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

# O_NOFOLLOW refuses a link as the last component; O_EXCL with O_CREAT refuses any existing name
# (a link included, dangling or not).
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_TRIES = 100


def _create_partial(path: Path) -> Path:
    """Create an empty file with a fresh random name beside ``path`` and return its name.

    Unlike :func:`tempfile.mkstemp`, whose files are always mode 0600, the file gets the mode an
    ordinary ``open`` would give it (0666 less the umask), so that outputs stay readable as usual.
    """
    for _ in range(_TRIES):
        partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.partial")
        try:
            os.close(os.open(partial, _CREATE, 0o666))
        except FileExistsError:
            continue
        return partial
    raise FileExistsError(f"{path}: no free temporary name after {_TRIES} tries")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a new temporary file beside ``path``; rename it to ``path`` when the block completes.

    The parent directory is created first.  The temporary file exists (empty) when the block
    starts, so the block writes into it by name.  If the block raises, the temporary file is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _create_partial(path)
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8")
