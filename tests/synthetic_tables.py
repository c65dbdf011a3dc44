"""Small experiment tables (the label stage's output format) for tokenizer and trainer tests."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

POSITIVE_WORDS = [
    "image",
    "camera",
    "pixel",
    "segmentation",
    "convolution",
    "detection",
    "video",
    "depth",
]
NEGATIVE_WORDS = [
    "protein",
    "market",
    "galaxy",
    "theorem",
    "enzyme",
    "election",
    "climate",
    "lattice",
]
COMMON_WORDS = [
    "we",
    "propose",
    "a",
    "method",
    "for",
    "the",
    "study",
    "of",
    "results",
    "show",
    "that",
    "our",
    "approach",
]


def experiment_rows(count: int, seed: int, weak_negatives: int = 0) -> dict[str, list]:
    """Rows whose label shows in their words, with varied abstract lengths."""
    rng = random.Random(seed)
    rows: dict[str, list] = {
        k: [] for k in ("id", "title", "abstract", "label", "primary_category", "year")
    }
    rows["is_weak_negative"] = []
    for index in range(count):
        label = int(rng.random() < 0.4)
        topic = POSITIVE_WORDS if label else NEGATIVE_WORDS
        words = [
            rng.choice(topic if rng.random() < 0.3 else COMMON_WORDS)
            for _ in range(rng.randint(5, 60))
        ]
        rows["id"].append(f"2101.{seed:02d}{index:04d}")
        rows["title"].append(" ".join(rng.choice(topic) for _ in range(rng.randint(2, 8))).title())
        rows["abstract"].append(" ".join(words) + ".")
        rows["label"].append(label)
        rows["primary_category"].append("cs.CV" if label else "math.NT")
        rows["year"].append(2015 + index % 8)
        rows["is_weak_negative"].append(index < weak_negatives)
        if index < weak_negatives:
            rows["label"][-1] = 0
    return rows


def write_tables(directory: Path, sizes: dict[str, int] | None = None) -> dict[str, Path]:
    """Write train/validation/test parquet tables; return their paths by split."""
    sizes = sizes or {"train": 320, "validation": 64, "test": 64}
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for offset, (split, count) in enumerate(sizes.items()):
        rows = experiment_rows(count, seed=offset + 1, weak_negatives=8 if split == "train" else 0)
        table = pa.table(
            {
                **{k: rows[k] for k in ("id", "title", "abstract")},
                "label": pa.array(rows["label"], pa.int8()),
                "primary_category": rows["primary_category"],
                "year": pa.array(rows["year"], pa.int16()),
                "is_weak_negative": pa.array(rows["is_weak_negative"], pa.bool_()),
            }
        )
        paths[split] = directory / f"{split}.parquet"
        pq.write_table(table, paths[split])
    return paths


def write_tiny_tokenized(root: Path) -> Path:
    """Tables of :func:`write_tables` tokenized for the tiny BERT as the tokenize stage does."""
    from arxivcat.model.tokenize import tokenize_splits

    paths = write_tables(root / "tables")
    tokenize_splits(paths, "builtin:tiny-bert", 64, root / "tokenized", num_proc=1)
    return root / "tokenized"
