"""Publishing a stage's table: the table, its digest file and its manifest, each atomically.

Every stage that writes a table for others (the corpus, the OAI harvest, the weak negatives)
publishes it the same way: the parquet file first, then the JSON manifest holding the table's
sha256, then the one-line digest file that downstream rules compare.  Each file appears under
its final name only once complete, and a failure while writing the table publishes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.io.atomic import atomic_path, write_text_atomic
from arxivcat.io.checksums import file_sha256

#: Writes the table to the path it is given; may return facts for the manifest (a row count).
TableWriter = Callable[[Path], Mapping[str, Any] | None]


def utc_timestamp() -> str:
    """Now, in UTC to the second (``2024-01-31T12:00:00Z``): a manifest's ``retrieved`` time."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def publish_table(
    table: pa.Table | TableWriter,
    table_path: str | Path,
    digest_path: str | Path | None,
    manifest_path: str | Path,
    manifest: Mapping[str, Any],
) -> dict[str, Any]:
    """Write a table, then its manifest, then its digest file; return the manifest written.

    Args:
        table: The table (written as zstd parquet), or a function that writes it to the
            temporary path it is given and returns facts to add to the manifest.
        table_path: The table's final path.
        digest_path: The file that holds only the table's sha256, or None for none.
        manifest_path: The JSON manifest.
        manifest: What the manifest says about the table; ``sha256`` is added.

    Returns:
        The manifest: ``manifest``, the writer's facts and the table's ``sha256``.
    """
    with atomic_path(table_path) as partial:
        if isinstance(table, pa.Table):
            pq.write_table(table, partial, compression="zstd")
            facts = None
        else:
            facts = table(partial)
    sha256 = file_sha256(table_path)
    written = {**manifest, **(facts or {}), "sha256": sha256}
    write_text_atomic(manifest_path, json.dumps(written, indent=2) + "\n")
    if digest_path is not None:
        write_text_atomic(digest_path, sha256 + "\n")
    return written
