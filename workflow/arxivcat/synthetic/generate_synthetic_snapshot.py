"""The rule generate_synthetic_snapshot: the JSON-lines file behind a ``synthetic:N`` source.

The download stage reads the file as it reads any local snapshot, so the generator is no part of
the download stage's code: editing the demo's word lists reruns this rule and the corpus, and a
real snapshot's download never depends on it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from arxivcat.errors import ArxivcatError
from arxivcat.synthetic.generate import write_snapshot

log = logging.getLogger(__name__)

#: The seed of every synthetic snapshot (the demo's records are the same on every machine).
SEED = 0


class SyntheticSourceError(ArxivcatError, ValueError):
    """A ``synthetic:N`` source whose N is not a positive count."""


def synthetic_count(source: str) -> int:
    """Return N of ``synthetic:N`` (underscores allowed: ``synthetic:100_000``).

    Raises:
        SyntheticSourceError: Unless N is a positive integer.
    """
    text = source.split(":", 1)[1].strip().replace("_", "")
    if not text.isdigit() or int(text) <= 0:
        raise SyntheticSourceError(f"snapshot source {source!r}: expected synthetic:N with N > 0")
    return int(text)


def generate_synthetic_snapshot(source: str, output: str | Path) -> int:
    """Write the records of ``synthetic:N`` as a JSON-lines snapshot; return N.

    Args:
        source: The ``snapshot.source`` value, ``synthetic:N``.
        output: The JSON-lines file (written atomically, byte-identical for the same N).
    """
    count = synthetic_count(source)
    log.info("generating %d synthetic records (seed %d) into %s", count, SEED, output)
    written = write_snapshot(output, count, seed=SEED)
    log.info("wrote %d synthetic records", written)
    return written
