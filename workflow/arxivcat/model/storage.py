"""Disk and permission errors of the model stages, as one line that names the path.

A full disk, a file-size limit or a directory the job may not write surface from several libraries
in their own words (Python's ``OSError``, safetensors' ``I/O error: ... (os error 28)``, torch's
``file write failed``, pyarrow's ``[Errno 28]``), usually without the path.  :func:`writing` turns
each of them into a :class:`StorageError` naming the path being written; :func:`require_space`
checks a lower bound of the space training needs before the first step, so that a job on a full
disk (and each of Snakemake's retries of it) fails in seconds instead of at its first checkpoint.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from arxivcat.errors import ArxivcatError

#: Errors of the storage itself: retrying the job cannot help.
STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large (file-size limit)",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
_ERRNO_IN_TEXT = re.compile(r"(?:os error|Errno) (\d+)")
# torch's stream writer reports a failed write without its cause.
_WRITE_FAILED = ("file write failed", "failed writing file")
_MB = 1024 * 1024


class StorageError(ArxivcatError, OSError):
    """A write refused by the disk or the file system, naming the path; not worth retrying."""


def storage_problem(error: BaseException) -> str | None:
    """What the storage refused, if ``error`` (or its cause) is a disk or permission error."""
    seen: BaseException | None = error
    while seen is not None:
        number = seen.errno if isinstance(seen, OSError) else None
        if number is None:
            match = _ERRNO_IN_TEXT.search(str(seen))
            number = int(match.group(1)) if match else None
        if number in STORAGE_ERRNOS:
            return STORAGE_ERRNOS[number]
        if any(text in str(seen) for text in _WRITE_FAILED):
            return "write failed (disk full, file-size limit or no permission)"
        seen = seen.__cause__ or seen.__context__
    return None


@contextlib.contextmanager
def writing(path: str | Path, what: str, partial: Path | None = None) -> Iterator[None]:
    """Turn a disk or permission error raised in the block into a :class:`StorageError`.

    Args:
        path: The file or directory the block writes (named when the error does not say).
        what: What is being written, e.g. ``"checkpoint store"``.
        partial: A temporary file or directory of the block, removed when the block fails.
    """
    try:
        yield
    except BaseException as error:
        if partial is not None and partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        elif partial is not None:
            partial.unlink(missing_ok=True)
        problem = None if isinstance(error, StorageError) else storage_problem(error)
        if problem is None:
            raise
        filename = getattr(error, "filename", None)
        target = filename if isinstance(filename, str) else path
        raise StorageError(
            f"cannot write the {what} {target}: {problem}; free space or fix permissions there "
            "(retrying the job as it is will fail the same way)"
        ) from None


def require_space(needs: dict[Path, int]) -> None:
    """Check that each directory's file system has at least the bytes asked of it free.

    Directories on the same file system share its free space.

    Args:
        needs: Bytes that will be written under each directory (created when absent).

    Raises:
        StorageError: If a file system has less space free than is asked of it.
    """
    by_device: dict[int, tuple[list[Path], int]] = {}
    for directory, size in needs.items():
        with writing(directory, "directory"):
            directory.mkdir(parents=True, exist_ok=True)
        device = os.stat(directory).st_dev
        paths, total = by_device.get(device, ([], 0))
        by_device[device] = ([*paths, directory], total + size)
    for paths, total in by_device.values():
        free = shutil.disk_usage(paths[0]).free
        if free < total:
            raise StorageError(
                f"not enough space for training in {', '.join(map(str, paths))}: "
                f"{free / _MB:.0f} MB free, at least {total / _MB:.0f} MB needed (a checkpoint "
                "and the final model); free space there (retrying as it is will fail the same way)"
            )
