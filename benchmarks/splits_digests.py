"""The sha256 of every split table: the real records of ../shared and a generated 100k corpus.

Not a test: a before/after check for changes that must leave the splits stage's output
byte-identical.  Both corpora go through the workflow's own stages: ``build_corpus`` (the
download stage; the three real JSON-lines samples concatenated into one local snapshot, and
``synthetic:100000``), ``prepare_weak_negatives`` (the real OpenAlex API pages of ../shared; for
the generated corpus, generated plain records, some of them copies of corpus papers by title or
DOI), ``assign_splits`` of the shipped ``reference`` split (and, for the real records, with
``min_year`` 2007 as well, so that the 2007 records are in) and ``build_experiment_data`` of each
of the seven shipped experiments.  Prints one ``sha256  path`` line per table (corpus, weak
negatives, assignments, train/validation/test), or ``error  path  message`` where a stage refuses
an experiment; compare two runs with ``diff``.

Usage: PYTHONPATH=workflow python benchmarks/splits_digests.py [--records 100000] > digests.txt
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

from common import REPO, SHARED, labelling_of

from arxivcat.config import (
    get_experiment,
    load_yaml,
    schema_defaults,
    validate_config,
)
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.settings import SnapshotSettings
from arxivcat.errors import ArxivcatError
from arxivcat.negatives.prepare_weak_negatives import prepare_weak_negatives
from arxivcat.negatives.settings import WeakNegativeSettings
from arxivcat.splits.assign_splits import assign_splits
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.settings import SplitSettings
from arxivcat.synthetic.generate_synthetic_snapshot import generate_synthetic_snapshot

SPLIT_TABLES = ("train", "validation", "test")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _weak_settings(source: Path, min_year: int) -> WeakNegativeSettings:
    block = {**schema_defaults("weak_negatives"), "source": str(source), "min_year": min_year}
    return WeakNegativeSettings.from_dict(block)


def _generated_weak_source(corpus: Path, path: Path, count: int) -> Path:
    """Plain weak-negative records: generated papers, every 25th a copy of a corpus paper."""
    import pyarrow.parquet as pq

    from arxivcat.synthetic.generate import generate_records

    papers = pq.read_table(corpus, columns=["title", "doi"]).slice(0, count).to_pylist()
    with open(path, "w", encoding="utf-8") as handle:
        for number, raw in enumerate(generate_records(count, seed=7)):
            record = {
                "id": f"generated:{number}",
                "title": raw["title"],
                "abstract": raw["abstract"],
                "year": 2012 + number % 12,
                "doi": f"10.9999/weak.{number}" if number % 3 else None,
            }
            if number % 25 == 0:
                paper = papers[number]
                if number % 50 == 0:
                    record["title"] = paper["title"].upper() + "."
                else:
                    record["doi"] = paper["doi"] and f"https://doi.org/{paper['doi']}"
            handle.write(json.dumps(record) + "\n")
    return path


def _experiments(
    label: str, workdir: Path, corpus: Path, weak: Path, config: dict, min_years: tuple[int, ...]
) -> Iterator[str]:
    """The digest lines of one corpus: its assignments and every experiment's tables."""
    yield f"{_sha256(corpus)}  {label}/arxiv.parquet"
    yield f"{_sha256(weak)}  {label}/weak_negatives.parquet"
    for min_year in min_years:
        settings = {**config["splits"]["reference"], "min_year": min_year}
        split_dir = workdir / f"reference-{min_year}"
        assignment = split_dir / "assignment.parquet"
        assign_splits(corpus, SplitSettings.from_dict(settings), assignment, name="reference")
        yield f"{_sha256(assignment)}  {label}/reference-{min_year}/assignment.parquet"
        for name in config["experiments"]:
            experiment = get_experiment(config, name)
            base = split_dir / name
            outputs = {split: base / f"{split}.parquet" for split in SPLIT_TABLES}
            try:
                build_experiment_data(
                    corpus_path=corpus,
                    assignment_path=assignment,
                    weak_negatives_path=weak if experiment.weak_negatives else None,
                    output_paths=outputs,
                    report_path=base / "split_report.json",
                    experiment=name,
                    labelling=labelling_of(experiment),
                )
            except ArxivcatError as error:
                message = str(error).replace(str(workdir), label)
                yield f"error  {label}/reference-{min_year}/{name}  {message}"
                continue
            for split, path in outputs.items():
                yield f"{_sha256(path)}  {label}/reference-{min_year}/{name}/{split}.parquet"


def real_records(workdir: Path, config: dict) -> Iterator[str]:
    """Digest lines of the real records (corpus from the three JSON-lines samples)."""
    snapshot = workdir / "snapshot.jsonl"
    with open(snapshot, "wb") as out:
        for path in sorted((SHARED / "arxiv").glob("*.jsonl")):
            data = path.read_bytes()
            out.write(data if data.endswith(b"\n") else data + b"\n")
    corpus = workdir / "arxiv.parquet"
    settings = SnapshotSettings.from_dict({**schema_defaults("snapshot"), "source": str(snapshot)})
    build_corpus(settings, corpus, workdir / "arxiv.sha256", workdir / "m.json", workdir)
    weak = workdir / "weak_negatives.parquet"
    prepare_weak_negatives(
        _weak_settings(SHARED / "openalex" / "api", 2010), weak, workdir / "weak.sha256", workdir
    )
    yield from _experiments("real", workdir, corpus, weak, config, (2010, 2007))


def generated_corpus(workdir: Path, config: dict, records: int) -> Iterator[str]:
    """Digest lines of ``synthetic:<records>`` and generated weak negatives."""
    corpus = workdir / "arxiv.parquet"
    source = f"synthetic:{records}"
    settings = SnapshotSettings.from_dict({**schema_defaults("snapshot"), "source": source})
    generated = workdir / "synthetic.jsonl"
    generate_synthetic_snapshot(source, generated)
    build_corpus(
        settings,
        corpus,
        workdir / "arxiv.sha256",
        workdir / "m.json",
        workdir,
        snapshot_path=generated,
    )
    plain = _generated_weak_source(corpus, workdir / "weak.jsonl", records // 8)
    weak = workdir / "weak_negatives.parquet"
    prepare_weak_negatives(_weak_settings(plain, 2010), weak, workdir / "weak.sha256", workdir)
    yield from _experiments(source, workdir, corpus, weak, config, (2010,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="generated corpus size")
    args = parser.parse_args()
    if not (SHARED / "arxiv").is_dir():
        parser.exit(2, f"{SHARED / 'arxiv'} is absent: this script reads the shared real records\n")
    config = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), load_yaml(REPO / "config" / "schema.yaml")
    )
    with tempfile.TemporaryDirectory() as scratch:
        for name, lines in (
            ("real", real_records),
            ("generated", lambda w, c: generated_corpus(w, c, args.records)),
        ):
            workdir = Path(scratch) / name
            workdir.mkdir()
            for line in lines(workdir, config):
                print(line, flush=True)


if __name__ == "__main__":
    main()
