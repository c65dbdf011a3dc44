"""Small hand-checkable corpora and weak-negative tables for the splits tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.data.corpus_table import write_corpus
from arxivcat.negatives.prepare_weak_negatives import WEAK_NEGATIVE_SCHEMA
from arxivcat.splits.assign_splits import assign_splits
from arxivcat.splits.settings import LabellingSettings, SplitSettings

REFERENCE = {
    "min_year": 2010,
    "fractions": {"train": 0.7, "validation": 0.15, "test": 0.15},
    "seed": 20230227,
    "method": "stratified",
    "holdout": None,
}


def assign(corpus: Path, settings: dict, output: Path, name: str = "test") -> dict:
    """:func:`assign_splits` with the split definition given as its config block."""
    return assign_splits(corpus, SplitSettings.from_dict(settings), output, name)


def labelling(
    labels: Iterable[str], weak_negatives: float = 0.0, label_mode: str = "any", sample_pct=100
) -> LabellingSettings:
    """An experiment's labelling settings (the schema's defaults unless given)."""
    return LabellingSettings(tuple(labels), weak_negatives, label_mode, sample_pct, None, 0)


def paper(
    paper_id: str,
    categories: Iterable[str],
    year: int | None = 2015,
    *,
    title: str | None = None,
    doi: str | None = None,
    updated: dt.date | None = None,
    submitted: dt.date | None = None,
) -> dict:
    """One corpus row."""
    categories = list(categories)
    if submitted is None and year is not None:
        submitted = dt.date(year, 1, 1)
    return {
        "id": paper_id,
        "title": title or f"Paper {paper_id}",
        "abstract": f"Abstract of {paper_id}.",
        "categories": categories,
        "primary_category": categories[0],
        "submitted": submitted,
        "updated": updated or submitted,
        "year": year,
        "doi": doi,
    }


def write_papers(rows: list[dict], path: Path) -> Path:
    """Write corpus rows as a corpus parquet file."""
    write_corpus(rows, path)
    return path


def write_weak(rows: list[dict], path: Path) -> Path:
    """Write weak-negative rows (id, title, abstract, doi, year, source)."""
    full = [
        {"abstract": f"Abstract of {r['id']}.", "doi": None, "year": 2015, "source": "test", **r}
        for r in rows
    ]
    pq.write_table(pa.Table.from_pylist(full, schema=WEAK_NEGATIVE_SCHEMA), path)
    return path


def outputs(directory: Path, name: str = "exp") -> dict:
    """Output paths for build_experiment_data under ``directory``."""
    base = directory / name / "data"
    return {
        "output_paths": {s: base / f"{s}.parquet" for s in ("train", "validation", "test")},
        "report_path": base / "split_report.json",
    }


ARXIV_SOURCE = "https://openalex.org/S4306400194"


def openalex_weak_table(api_dir: Path) -> pa.Table:
    """Real OpenAlex API pages as a weak-negative table: abstracts rebuilt, arXiv-hosted dropped.

    Stands in for the prepare stage (another module); keeps what the contract promises.
    """
    import json

    rows = []
    for path in sorted(api_dir.rglob("*.json")):
        for work in json.loads(path.read_text(encoding="utf-8")).get("results", []):
            sources = [(loc.get("source") or {}).get("id") for loc in work.get("locations") or []]
            if ARXIV_SOURCE in sources or "arxiv" in (work.get("indexed_in") or []):
                continue
            index = work.get("abstract_inverted_index") or {}
            words = sorted((p, word) for word, positions in index.items() for p in positions)
            rows.append(
                {
                    "id": work["id"].rsplit("/", 1)[-1],
                    "title": work.get("title") or "",
                    "abstract": " ".join(word for _, word in words),
                    "doi": (work.get("doi") or "").lower().removeprefix("https://doi.org/") or None,
                    "year": work.get("publication_year"),
                    "source": "openalex",
                }
            )
    return pa.Table.from_pylist(rows, schema=WEAK_NEGATIVE_SCHEMA)
