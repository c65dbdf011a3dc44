"""Local sources: the data files that a path, a directory or a glob names.

The predict stage's corpora (in the workflow's input function and in the stage itself) and the
weak-negative stage's local source all resolve their sources here, so a source names the same
files everywhere.  This module imports nothing but the standard library: the Snakefile's input
functions use it.
"""

from __future__ import annotations

import glob
from collections.abc import Callable
from pathlib import Path


def _named_like(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.name.lower().endswith(suffixes)


def source_files(
    source: str | Path,
    suffixes: tuple[str, ...],
    *,
    error: Callable[[str], Exception],
    setting: str | None = None,
) -> list[Path]:
    """The data files of a local source, sorted.

    A source is a file; a directory, meaning its files whose names end in one of ``suffixes``,
    at any depth; or a glob, meaning the files it matches (``**`` spans directories).  Every
    file named or matched must end in one of ``suffixes`` (compared without regard to case).

    Args:
        source: The path, directory or glob.
        suffixes: The name endings of the data files the caller reads, in lower case.
        error: The error class raised (the stage's own).
        setting: The config key that names the source, for messages; None for none.

    Raises:
        error: When nothing matches, or a file named or matched has an unknown format.
    """
    where = f"{setting}: " if setting else ""
    path = Path(source)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _named_like(p, suffixes))
    else:
        files = sorted(Path(p) for p in glob.glob(str(source), recursive=True) if Path(p).is_file())
    if not files:
        raise error(f"{where}{source}: no such file or no data files")
    for file in files:
        if not _named_like(file, suffixes):
            raise error(f"{where}{file}: unknown format (expected {', '.join(suffixes)})")
    return files
