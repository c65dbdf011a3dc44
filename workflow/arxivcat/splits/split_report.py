"""An experiment's split report (rule ``label_splits``): settings, digests and counts by split.

The report states what the experiment's tables hold: the split definition's settings, the
corpus's digest and date, rows, papers and positives per split (per head for a multi-head
experiment), the weak negatives and their pool, the held-out papers, and the share of positives
in the whole corpus, which the card's prevalence table reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arxivcat.io.checksums import file_sha256
from arxivcat.splits.assign_splits import SplitError, latest_versions
from arxivcat.splits.heads import head_matrix
from arxivcat.splits.holdout import HELDOUT
from arxivcat.splits.labels import positive_mask
from arxivcat.splits.settings import LabellingSettings


@dataclass(frozen=True)
class Selection:
    """The papers of an experiment, split by split.

    Attributes:
        papers: The assigned papers' corpus columns, in corpus order.
        keep: Which of ``papers`` the experiment uses (``sample_pct`` leaves training papers out).
        splits: Each split's (ascending corpus row numbers, labels): labels ``[papers]`` for a
            binary experiment, ``[papers, heads]`` for a multi-head one.
        heads: A multi-head experiment's heads (name to categories), in column order.
        dropped_heads: ``every-category`` heads left out: a split held no positive of theirs.
    """

    papers: pa.Table
    keep: np.ndarray
    splits: dict[str, tuple[np.ndarray, np.ndarray]]
    heads: dict[str, tuple[str, ...]] | None = None
    dropped_heads: tuple[str, ...] = ()


def split_report(
    experiment: str,
    labelling: LabellingSettings,
    summary: dict[str, Any],
    corpus: pa.Table,
    selection: Selection,
    n_weak: int,
    pool: dict[str, int],
    snapshot_sha256: str,
) -> dict[str, Any]:
    """The split report: settings, the corpus's digest and date, and counts by split."""
    kept = selection.papers.select(["year", "primary_category"]).filter(pa.array(selection.keep))
    year_min_max = pc.min_max(kept["year"])
    top = pc.value_counts(kept["primary_category"]).to_pylist()
    top.sort(key=lambda entry: (-entry["counts"], entry["values"]))
    split_stats = {}
    for split, (split_rows, split_labels) in selection.splits.items():
        extra = n_weak if split == "train" else 0
        total = len(split_rows) + extra
        # A multi-head experiment's positive papers are those positive for any head.
        positives = (
            int(split_labels.reshape(len(split_rows), -1).any(axis=1).sum())
            if len(split_rows)
            else 0
        )
        split_stats[split] = {
            "rows": total,
            "papers": len(split_rows),
            "positives": positives,
            "positive_rate": round(positives / total, 6) if total else 0.0,
            "weak_negatives": extra,
        }
    report = {
        "experiment": experiment,
        "labels": list(labelling.labels),
        "label_mode": labelling.label_mode,
        "split": summary.get("split"),
        "split_settings": summary["settings"],
        "snapshot_sha256": snapshot_sha256,
        "snapshot_date": _iso(pc.max(corpus["updated"]).as_py()),
        "year_range": [year_min_max["min"].as_py(), year_min_max["max"].as_py()],
        "sample_pct": labelling.sample_pct,
        "weak_negative_share": labelling.weak_negatives,
        "weak_negatives": n_weak,
        "weak_negative_pool": pool,
        "splits": split_stats,
        HELDOUT: summary.get(HELDOUT, {"papers": 0}),
        "top_primary_categories": [[e["values"], e["counts"]] for e in top[:10]],
    }
    if selection.heads is not None:
        report["heads"] = _head_report(selection, n_weak)
        report["dropped_heads"] = list(selection.dropped_heads)
    return report


def _head_report(selection: Selection, n_weak: int) -> list[dict[str, Any]]:
    """Each head's categories and, per split, its positives and positive rate."""
    assert selection.heads is not None
    out = []
    for column, (name, labels) in enumerate(selection.heads.items()):
        counts = {}
        for split, (rows, split_labels) in selection.splits.items():
            total = len(rows) + (n_weak if split == "train" else 0)
            positives = int(split_labels[:, column].sum())
            counts[split] = {
                "positives": positives,
                "positive_rate": round(positives / total, 6) if total else 0.0,
            }
        out.append({"name": name, "labels": list(labels), "splits": counts})
    return out


def add_corpus_rates(
    report: dict[str, Any],
    corpus: pa.Table,
    labelling: LabellingSettings,
    heads: dict[str, tuple[str, ...]] | None,
) -> None:
    """Record the share of positives in the whole corpus (every paper once, all years).

    The card gives precision and F1 at this share beside the validation split's: a model used on
    the corpus at large meets it, not the split definition's years.
    """
    papers = corpus.take(pa.array(latest_versions(corpus["id"], corpus["updated"])))
    categories, primary = papers["categories"], papers["primary_category"]
    if heads is None:
        positive = positive_mask(categories, primary, labelling.labels, labelling.label_mode)
        report["corpus_positive_rate"] = round(float(positive.mean()), 6)
        return
    rates = head_matrix(categories, primary, heads, labelling.label_mode).mean(axis=0)
    for entry, rate in zip(report["heads"], rates, strict=True):
        entry["corpus_positive_rate"] = round(float(rate), 6)


def corpus_digest(corpus_path: str | Path, digest_path: str | Path | None) -> str:
    """The corpus's sha256: from its digest file when given (it holds only the digest)."""
    if digest_path is None:
        return file_sha256(corpus_path)
    digest = Path(digest_path).read_text(encoding="utf-8").split()
    if len(digest) != 1 or len(digest[0]) != 64:
        raise SplitError(f"{digest_path}: expected one sha256 hex digest")
    return digest[0]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
