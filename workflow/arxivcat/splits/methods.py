"""The ways of assigning papers to train/validation/test: stratified, keyed hash and time.

Every method takes the papers of one split definition (after the year filter and with duplicate
ids collapsed), **sorted by id**, and returns one split code per paper (see :data:`SPLITS`).
All randomness comes from the split definition's seed, so equal inputs give equal outputs.

- ``stratified`` (the reference's method): within each primary category the papers are put in a
  seeded random order and cut at the train/validation fractions with a random offset (systematic
  sampling), so every category's split sizes are ``floor`` or ``ceil`` of its share and the
  expected sizes are exactly the configured fractions. Adding papers to the snapshot reshuffles.
- ``hash``: a paper's split depends only on a keyed BLAKE2b hash of its arXiv id (the seed is the
  key), so a paper keeps its split when the snapshot grows. Not stratified: category proportions
  hold in expectation only.
- ``time``: the newest papers (by first-submission date) form the test split, everything older is
  split stratified into train and validation, so a model is tested on papers newer than anything
  it trained on. Papers submitted on the cut-off day all go to test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arxivcat.errors import ArxivcatError
from arxivcat.splits.settings import SplitSettings

#: Split names, indexed by split code.
SPLITS: tuple[str, str, str] = ("train", "validation", "test")
TRAIN, VALIDATION, TEST = 0, 1, 2

_HASH_SCALE = float(2**64)


class SplitMethodError(ArxivcatError, ValueError):
    """A split definition that cannot be applied to the given papers."""


@dataclass
class Assignment:
    """The outcome of a split method.

    Attributes:
        codes: One split code per paper (0 train, 1 validation, 2 test), int8.
        details: Method-specific facts worth reporting (e.g. the time split's cut-off date).
    """

    codes: np.ndarray
    details: dict[str, Any] = field(default_factory=dict)


def _cut(position: np.ndarray, fractions: dict[str, float]) -> np.ndarray:
    """Split codes for positions in [0, 1): below train share -> train, then validation, test."""
    train = fractions["train"]
    validation = train + fractions["validation"]
    return np.where(position < train, TRAIN, np.where(position < validation, VALIDATION, TEST))


def stratified_codes(
    strata: pa.Array, fractions: dict[str, float], rng: np.random.Generator
) -> np.ndarray:
    """Stratified random split codes, one per element of ``strata`` (e.g. primary categories).

    Within each stratum of size n, the papers are ranked by a random key; paper of rank r goes to
    the split its position (r + offset) / n falls in, with one random offset in [0, 1) per
    stratum. Each split of a stratum thus gets ``floor`` or ``ceil`` of n times its fraction.

    Args:
        strata: The stratum of each paper (any Arrow type that can be dictionary-encoded).
        fractions: Shares of train, validation and test (summing to 1).
        rng: The seeded generator; consumed in a fixed order.
    """
    n = len(strata)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    if isinstance(strata, pa.ChunkedArray):
        strata = strata.combine_chunks()
    encoded = pc.dictionary_encode(strata)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    key = rng.random(n)
    offsets = rng.random(len(encoded.dictionary))
    order = np.lexsort((key, codes))
    sizes = np.bincount(codes, minlength=len(encoded.dictionary))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    sorted_codes = codes[order]
    rank = np.arange(n) - starts[sorted_codes]
    position = (rank + offsets[sorted_codes]) / sizes[sorted_codes]
    result = np.empty(n, dtype=np.int8)
    result[order] = _cut(position, fractions)
    return result


def hash_positions(ids: list[str] | pa.Array, seed: int) -> np.ndarray:
    """Positions in [0, 1) from a keyed BLAKE2b hash of each id (the seed is the key)."""
    key = str(seed).encode()
    values = ids.to_pylist() if isinstance(ids, pa.Array | pa.ChunkedArray) else ids
    digests = b"".join(
        hashlib.blake2b(paper_id.encode(), digest_size=8, key=key).digest() for paper_id in values
    )
    return np.frombuffer(digests, dtype="<u8").astype(np.float64) / _HASH_SCALE


def submission_days(submitted: pa.Array, year: pa.Array) -> np.ndarray:
    """Days since the epoch of each submission date; Jan 1 of the year where the date is null."""
    days = np.array(pc.cast(submitted, pa.int32()).fill_null(-(2**31)).to_numpy())
    missing = days == -(2**31)
    if missing.any():
        years = np.asarray(pc.cast(year, pa.int32()).fill_null(1970).to_numpy())[missing]
        epoch = dt.date(1970, 1, 1)
        days[missing] = [(dt.date(int(y), 1, 1) - epoch).days for y in years]
    return days


def assign_codes(
    ids: pa.Array,
    primary: pa.Array,
    submitted: pa.Array,
    year: pa.Array,
    settings: SplitSettings,
) -> Assignment:
    """Assign each paper to a split by the method of ``settings`` (one the schema knows).

    Args:
        ids: The papers' arXiv ids, sorted and unique.
        primary: Their primary categories.
        submitted: Their first-submission dates (date32, nullable).
        year: Their years (used where the submission date is missing).
        settings: The split definition (its ``method``, ``fractions`` and ``seed`` count here).

    Raises:
        SplitMethodError: For a time split that cannot separate the papers.
    """
    fractions, seed = settings.fractions, settings.seed
    if settings.method == "hash":
        return Assignment(_cut(hash_positions(ids, seed), fractions).astype(np.int8))
    if settings.method == "time":
        return _time_codes(primary, submitted, year, fractions, seed)
    return Assignment(stratified_codes(primary, fractions, np.random.default_rng(seed)))


def _time_codes(
    primary: pa.Array,
    submitted: pa.Array,
    year: pa.Array,
    fractions: dict[str, float],
    seed: int,
) -> Assignment:
    n = len(primary)
    codes = np.full(n, TEST, dtype=np.int8)
    if n == 0:
        return Assignment(codes)
    days = submission_days(submitted, year)
    older_share = fractions["train"] + fractions["validation"]
    cutoff = int(np.sort(days)[min(n - 1, int(np.floor(n * older_share)))])
    older = days < cutoff
    if not older.any():
        raise SplitMethodError(
            f"time split: all {n} papers fall on or after the cut-off "
            f"{dt.date(1970, 1, 1) + dt.timedelta(days=cutoff)}; nothing left to train on"
        )
    inner = {
        "train": fractions["train"] / older_share,
        "validation": fractions["validation"] / older_share,
        "test": 0.0,
    }
    older_rows = np.flatnonzero(older)
    codes[older_rows] = stratified_codes(
        primary.take(pa.array(older_rows)), inner, np.random.default_rng(seed)
    )
    cutoff_date = dt.date(1970, 1, 1) + dt.timedelta(days=cutoff)
    return Assignment(codes, {"test_from": cutoff_date.isoformat()})
