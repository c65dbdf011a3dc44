"""Split reports of ai-full-weak-negs and cv-32 on the 3,200 real arXiv records in ../shared.

Builds the corpus from the three JSON-lines samples, the weak negatives from the real OpenAlex
API pages (abstracts rebuilt from the inverted index), assigns the reference split (min_year 2010,
and 2007 so that the non-CS 2007 records are in) and prints each experiment's split report.

Usage: PYTHONPATH=workflow python benchmarks/splits_real_records.py [WORKDIR]
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.config import get_experiment, load_yaml, validate_config
from arxivcat.corpus import normalized_records, write_corpus
from arxivcat.splits import assign_splits, build_experiment_data, report_table

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
ARXIV_SOURCE = "https://openalex.org/S4306400194"
WEAK_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("title", pa.string()),
        ("abstract", pa.string()),
        ("doi", pa.string()),
        ("year", pa.int16()),
        ("source", pa.string()),
    ]
)


def abstract_from_index(index: dict[str, list[int]] | None) -> str:
    """Rebuild an OpenAlex abstract from its inverted index (word -> positions)."""
    words = sorted((p, word) for word, positions in (index or {}).items() for p in positions)
    return " ".join(word for _, word in words)


def hosted_on_arxiv(work: dict) -> bool:
    """Whether OpenAlex shows the work on arXiv (a location at source S4306400194 or indexed_in).

    The prepare stage drops these; the splits stage itself only sees DOIs and titles.
    """
    sources = [(loc.get("source") or {}).get("id") for loc in work.get("locations") or []]
    return ARXIV_SOURCE in sources or "arxiv" in (work.get("indexed_in") or [])


def openalex_weak_negatives(api_dir: Path) -> pa.Table:
    """The works of the OpenAlex API pages under ``api_dir`` not on arXiv, as weak negatives."""
    rows = []
    for path in sorted(api_dir.rglob("*.json")):
        for work in json.loads(path.read_text(encoding="utf-8")).get("results", []):
            if hosted_on_arxiv(work):
                continue
            doi = (work.get("doi") or "").lower().removeprefix("https://doi.org/")
            rows.append(
                {
                    "id": work["id"].rsplit("/", 1)[-1],
                    "title": work.get("title") or work.get("display_name") or "",
                    "abstract": abstract_from_index(work.get("abstract_inverted_index")),
                    "doi": doi or None,
                    "year": work.get("publication_year"),
                    "source": "openalex",
                }
            )
    return pa.Table.from_pylist(rows, schema=WEAK_SCHEMA)


def main(workdir: Path) -> None:
    corpus = workdir / "arxiv.parquet"
    files = sorted((SHARED / "arxiv").glob("*.jsonl"))
    records = write_corpus(itertools.chain.from_iterable(map(normalized_records, files)), corpus)
    weak = workdir / "weak_negatives.parquet"
    pq.write_table(openalex_weak_negatives(SHARED / "openalex" / "api"), weak)
    print(
        f"corpus: {records} records from {len(files)} files; "
        f"weak-negative candidates: {pq.read_metadata(weak).num_rows}"
    )
    config = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), load_yaml(REPO / "config" / "schema.yaml")
    )
    for min_year in (2010, 2007):
        settings = {**config["splits"]["reference"], "min_year": min_year}
        assignment = workdir / f"reference-{min_year}" / "assignment.parquet"
        summary = assign_splits(corpus, settings, assignment, name="reference")
        print(
            f"\n## min_year {min_year}: assignment {json.dumps(summary['splits'])}, "
            f"{summary['duplicates_collapsed']} duplicate rows, "
            f"{summary['dropped_by_year']} dropped by year"
        )
        for name in ("ai-full-weak-negs", "cv-32"):
            experiment = get_experiment(config, name)
            base = workdir / f"{name}-{min_year}"
            report = build_experiment_data(
                corpus_path=corpus,
                assignment_path=assignment,
                labels=experiment.labels,
                weak_negatives_path=weak if experiment.weak_negatives else None,
                weak_negative_share=experiment.weak_negatives,
                output_paths={s: base / f"{s}.parquet" for s in ("train", "validation", "test")},
                report_path=base / "split_report.json",
                experiment=name,
                label_mode=experiment.label_mode,
                sample_pct=experiment.sample_pct,
            )
            print(f"\n### {name} (min_year {min_year})\n")
            print(json.dumps(report, indent=2))
            print()
            print(report_table(report))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main(Path(scratch))
