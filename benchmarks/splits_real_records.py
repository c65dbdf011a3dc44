"""Split reports of ai-full-weak-negs and cv-32 on the 3,200 real arXiv records in ../shared.

Builds the corpus from the three JSON-lines samples and the weak negatives from the real OpenAlex
API pages through the workflow's prepare stage (abstracts rebuilt from the inverted index; year,
arXiv, CS and no-abstract filters applied), assigns the reference split (min_year 2010, and 2007
so that the non-CS 2007 records are in) and prints each experiment's split report.

Usage: PYTHONPATH=workflow python benchmarks/splits_real_records.py [WORKDIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from pathlib import Path

from common import labelling_of

from arxivcat.config import get_experiment, load_yaml, schema_defaults, validate_config
from arxivcat.data.corpus import normalized_records
from arxivcat.data.corpus_table import write_corpus
from arxivcat.splits.assign_splits import SplitError, assign_splits
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.methods import SPLITS
from arxivcat.splits.settings import SplitSettings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def report_table(report: dict) -> str:
    """A split report's numbers as a small Markdown table."""
    lines = [
        "| split | rows | arXiv papers | positives | positive rate | weak negatives |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for split in SPLITS:
        stats = report["splits"][split]
        lines.append(
            f"| {split} | {stats['rows']:,} | {stats['papers']:,} | {stats['positives']:,} | "
            f"{stats['positive_rate']:.2%} | {stats['weak_negatives']:,} |"
        )
    return "\n".join(lines)


def prepared_weak_negatives(workdir: Path, min_year: int) -> Path:
    """The weak negatives as the workflow's prepare stage makes them (its filters included)."""
    from arxivcat.negatives.prepare_weak_negatives import prepare_weak_negatives
    from arxivcat.negatives.settings import WeakNegativeSettings

    table = workdir / f"weak_negatives-prepared-{min_year}.parquet"
    settings = WeakNegativeSettings.from_dict(
        {
            **schema_defaults("weak_negatives"),
            "source": str(SHARED / "openalex" / "api"),
            "min_year": min_year,
        }
    )
    manifest = prepare_weak_negatives(settings, table, table.with_suffix(".sha256"), workdir)
    print(
        f"prepare stage (min_year {min_year}): {manifest['records']} rows, "
        f"dropped {manifest['dropped']}"
    )
    return table


def main(workdir: Path) -> None:
    corpus = workdir / "arxiv.parquet"
    files = sorted((SHARED / "arxiv").glob("*.jsonl"))
    records = write_corpus(itertools.chain.from_iterable(map(normalized_records, files)), corpus)
    print(f"corpus: {records} records from {len(files)} files")
    config = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), load_yaml(REPO / "config" / "schema.yaml")
    )
    for min_year in (2010, 2007):
        settings = {**config["splits"]["reference"], "min_year": min_year}
        weak = prepared_weak_negatives(workdir, min_year)
        assignment = workdir / f"reference-{min_year}" / "assignment.parquet"
        summary = assign_splits(
            corpus, SplitSettings.from_dict(settings), assignment, name="reference"
        )
        print(
            f"\n## min_year {min_year}: assignment {json.dumps(summary['splits'])}, "
            f"{summary['duplicates_collapsed']} duplicate rows, "
            f"{summary['dropped_by_year']} dropped by year"
        )
        for name in ("ai-full-weak-negs", "cv-32"):
            experiment = get_experiment(config, name)
            base = workdir / f"{name}-{min_year}"
            try:
                report = build_experiment_data(
                    corpus_path=corpus,
                    assignment_path=assignment,
                    weak_negatives_path=weak if experiment.weak_negatives else None,
                    output_paths={
                        s: base / f"{s}.parquet" for s in ("train", "validation", "test")
                    },
                    report_path=base / "split_report.json",
                    experiment=name,
                    labelling=labelling_of(experiment),
                )
            except SplitError as error:
                print(f"\n### {name} (min_year {min_year}): SplitError: {error}")
                continue
            print(f"\n### {name} (min_year {min_year})\n")
            print(json.dumps(report, indent=2))
            print()
            print(report_table(report))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep files here")
    args = parser.parse_args()
    if not (SHARED / "arxiv").is_dir():
        parser.exit(2, f"{SHARED / 'arxiv'} is absent: this script reads the shared real records\n")
    if args.workdir:
        main(args.workdir)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main(Path(scratch))
