"""The tokenize stage: an experiment's split tables into an on-disk Arrow ``DatasetDict``.

Each paper becomes the pair ``(title, abstract)``, truncated to ``max_length`` tokens from the
abstract (``truncation="only_second"``); a title too long to leave room for any abstract falls back
to ``longest_first``.  Sequences are stored unpadded: the trainer pads each batch (dynamic padding)
or pads to ``max_length`` where static shapes are needed (TPU).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from datasets import Dataset, DatasetDict
from transformers import PreTrainedTokenizerBase

from arxivcat.errors import ArxivcatError
from arxivcat.io.progress import Progress, quiet_progress_bars
from arxivcat.model.loading import load_tokenizer
from arxivcat.model.storage import writing
from arxivcat.splits.holdout import HELDOUT
from arxivcat.splits.methods import SPLITS
from arxivcat.splits.table_schema import table_heads

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("id", "title", "abstract", "label", "is_weak_negative")
TOKENIZER_SUBDIR = "tokenizer"
#: A multi-head experiment's heads, in the order of its label lists (beside the splits).
HEADS_FILE = "heads.json"
# Below this many rows a worker pool costs more than it saves.
PARALLEL_MIN_ROWS = 20_000


class TokenizeError(ArxivcatError, ValueError):
    """An unusable split table, described in one line."""


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase, titles: list[str], abstracts: list[str], max_length: int
) -> dict[str, list[list[int]]]:
    """Tokenize ``(title, abstract)`` pairs, truncating the abstract to fit ``max_length``.

    Args:
        tokenizer: A Hugging Face tokenizer.
        titles: Paper titles.
        abstracts: Paper abstracts, in the same order.
        max_length: Most tokens per pair, special tokens included.

    Returns:
        The tokenizer's columns (``input_ids``, ``attention_mask``, ...), unpadded.
    """
    titles = [t or "" for t in titles]
    abstracts = [a or "" for a in abstracts]
    try:
        return dict(tokenizer(titles, abstracts, truncation="only_second", max_length=max_length))
    except Exception:  # the fast tokenizer refuses a batch holding an over-long title
        pass
    encoded: dict[str, list[list[int]]] = {}
    for title, abstract in zip(titles, abstracts, strict=True):
        try:
            row = tokenizer(title, abstract, truncation="only_second", max_length=max_length)
        except Exception:
            # The title alone exceeds the budget: only_second cannot help, so cut both.
            row = tokenizer(title, abstract, truncation="longest_first", max_length=max_length)
        for column, values in row.items():
            encoded.setdefault(column, []).append(values)
    return encoded


def _read_split(path: str | Path, split: str) -> Dataset:
    table = pq.read_table(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise TokenizeError(f"{path}: {split} table lacks column(s) {', '.join(missing)}")
    table = table.select(list(REQUIRED_COLUMNS))
    return Dataset(table)


def tokenize_dataset(
    dataset: Dataset,
    tokenizer: PreTrainedTokenizerBase,
    max_length: int,
    num_proc: int = 1,
    desc: str = "tokenize",
    progress_seconds: float = 30.0,
    cache_file: Path | None = None,
) -> Dataset:
    """Tokenize a table with ``id, title, abstract, label, is_weak_negative`` columns.

    Each process logs its progress (rows of its share, percent, rate, ETA) every
    ``progress_seconds`` and when done.  With ``cache_file`` the output is written there (one
    file per process) and memory-mapped, rather than held in memory.

    Returns:
        A dataset with the tokenizer's columns plus ``labels`` (an int, or a list of one per head
        for a multi-head experiment), ``id`` and ``is_weak_negative``.
    """
    workers = num_proc if len(dataset) >= PARALLEL_MIN_ROWS and num_proc > 1 else None
    progress: dict[int, Progress] = {}

    def encode(batch: Mapping[str, list[Any]], rank: int | None) -> dict[str, list[Any]]:
        if os.getpid() not in progress:
            progress[os.getpid()] = _share_progress(
                desc, len(dataset), workers, rank, progress_seconds
            )
        out: dict[str, list[Any]] = encode_pairs(
            tokenizer, batch["title"], batch["abstract"], max_length
        )
        out["labels"] = [
            [int(v) for v in label] if isinstance(label, list) else int(label)
            for label in batch["label"]
        ]
        out["id"] = [str(i) for i in batch["id"]]
        out["is_weak_negative"] = [bool(w) for w in batch["is_weak_negative"]]
        progress[os.getpid()].advance(len(out["id"]))
        return out

    return dataset.map(
        encode,
        batched=True,
        with_rank=True,
        batch_size=1000,
        remove_columns=dataset.column_names,
        num_proc=workers,
        desc=desc,
        load_from_cache_file=False,
        cache_file_name=None if cache_file is None else str(cache_file),
    )


def _share_progress(
    desc: str, rows: int, workers: int | None, rank: int | None, every_seconds: float
) -> Progress:
    """Progress of one process's contiguous share of ``rows`` (as ``Dataset.map`` shards)."""
    if not workers or rank is None:
        return Progress(logger, desc, rows, every=every_seconds, unit="rows")
    share = rows // workers + (1 if rank < rows % workers else 0)
    name = f"{desc} [worker {rank + 1}/{workers}]"
    return Progress(logger, name, share, every=every_seconds, unit="rows")


def tokenize_splits(
    split_paths: Mapping[str, str | Path],
    model: str,
    max_length: int,
    output_dir: str | Path,
    num_proc: int = 1,
) -> DatasetDict:
    """Tokenize an experiment's train/validation/test tables and save them with the tokenizer.

    The dataset is written next to ``output_dir`` under a temporary name and renamed into place
    once complete, so a killed job never leaves a dataset that looks finished.  The tokenized
    rows go to files beside it (``<output_dir>.tokenizing``, removed at the end) as they are
    made, so a split of a million papers is never held in memory whole.

    Args:
        split_paths: Parquet table of each split (keys ``train``, ``validation``, ``test``, and
            optionally ``heldout``, the split definition's newest papers).
        model: The model reference whose tokenizer is used (see :mod:`arxivcat.model.loading`).
        max_length: Most tokens per paper.
        output_dir: Where ``DatasetDict.save_to_disk`` writes; the tokenizer goes to
            ``output_dir/tokenizer``.
        num_proc: Worker processes for tokenization.

    Returns:
        The tokenized splits.

    Raises:
        TokenizeError: If a split path or a column is missing.
        StorageError: If the disk is full or the output may not be written (names the path).
    """
    missing = [s for s in SPLITS if s not in split_paths]
    if missing:
        raise TokenizeError(f"tokenize_splits: split path(s) missing: {', '.join(missing)}")
    quiet_progress_bars()
    tokenizer = load_tokenizer(model)
    heads = table_heads(pq.read_schema(split_paths["train"]))
    output = Path(output_dir)
    partial = output.with_name(output.name + ".partial")
    scratch = output.with_name(output.name + ".tokenizing")
    try:
        with writing(scratch, "tokenized rows", partial=scratch):
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            splits = {}
            for split in (*SPLITS, *(s for s in (HELDOUT,) if s in split_paths)):
                raw = _read_split(split_paths[split], split)
                if split == HELDOUT and not len(raw):
                    continue  # no holdout: a dataset cannot save (nor load) an empty split
                logger.info("tokenizing %s: %d rows (max_length %d)", split, len(raw), max_length)
                splits[split] = tokenize_dataset(
                    raw, tokenizer, max_length, num_proc, f"tokenize {split}",
                    cache_file=scratch / f"{split}.arrow",
                )  # fmt: skip
        with writing(partial, "tokenized dataset", partial=partial):
            shutil.rmtree(partial, ignore_errors=True)
            # One process: with num_proc, datasets saves through a "spawn" pool, whose workers
            # re-run the unguarded top level of the calling script (a Snakemake rule script).
            DatasetDict(splits).save_to_disk(str(partial))
            tokenizer.save_pretrained(str(partial / TOKENIZER_SUBDIR))
            if heads is not None:
                (partial / HEADS_FILE).write_text(json.dumps(heads), encoding="utf-8")
            shutil.rmtree(output, ignore_errors=True)
            os.replace(partial, output)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    dataset = DatasetDict.load_from_disk(str(output))
    for split in dataset:
        lengths = [len(ids) for ids in dataset[split]["input_ids"][:1000]]
        logger.info(
            "%s: %d rows, mean length %.0f tokens (first 1000 rows)",
            split,
            len(dataset[split]),
            sum(lengths) / max(len(lengths), 1),
        )
    logger.info("tokenized dataset written to %s", output)
    return dataset


def read_heads(dataset_dir: str | Path) -> list[str] | None:
    """The heads of a tokenized multi-head experiment; None for a binary one."""
    path = Path(dataset_dir) / HEADS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
