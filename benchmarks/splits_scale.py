"""Benchmark: the splits of all seven configured experiments on a generated 1M-record corpus.

Generates (vectorised, no per-row Python) a corpus parquet with CORPUS_SCHEMA (1% of the ids
repeated as later versions, realistic title/abstract lengths, Zipf-like category frequencies)
and a weak-negative table, then, in a fresh child process, runs what the workflow runs: one
``assign_splits`` for the shared ``reference`` split and ``build_experiment_data`` for each of
the seven experiments of config/config.yaml. Prints seconds per step and the child's peak RSS.

Usage: PYTHONPATH=workflow python benchmarks/splits_scale.py [--records 1000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arxivcat.data.corpus_table import CORPUS_SCHEMA

REPO = Path(__file__).resolve().parents[1]
CHUNK = 50_000
_CATEGORY_NAMES = """
cs.AI cs.CL cs.CV cs.LG cs.MA cs.RO stat.ML cs.CR cs.SE cs.DS cs.IT cs.NI cs.DC math.CO math.PR
math.AP math.NA math.ST math-ph hep-th hep-ph gr-qc quant-ph astro-ph.GA astro-ph.CO astro-ph.SR
cond-mat.mes-hall cond-mat.str-el cond-mat.stat-mech physics.optics q-bio.NC q-fin.ST econ.GN
eess.SP eess.SY
"""
CATEGORIES = sorted(_CATEGORY_NAMES.split())


def _base_text(rng: np.random.Generator, chars: int) -> bytes:
    """A long text of random words, sliced into titles and abstracts."""
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    vocabulary = [
        bytes(letters[rng.integers(0, 26, size=rng.integers(2, 12))]) for _ in range(5000)
    ]
    words = rng.integers(0, len(vocabulary), size=chars // 6)
    return b" ".join(vocabulary[w] for w in words)[:chars]


def _strings(base: bytes, lengths: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """Consecutive slices of ``base`` with the given lengths, as one Arrow string array."""
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
    start = int(rng.integers(0, len(base) - int(offsets[-1])))
    data = pa.py_buffer(base[start : start + int(offsets[-1])])
    return pa.StringArray.from_buffers(len(lengths), pa.py_buffer(offsets.tobytes()), data)


def _chunk(first: int, n: int, rng: np.random.Generator, base: bytes) -> pa.Table:
    index = np.arange(first, first + n)
    year = np.minimum(2024, 1991 + np.floor(33 * rng.beta(4, 1.3, n))).astype(np.int16)
    month = rng.integers(1, 13, n)
    ids = np.char.add(
        np.char.add(np.char.zfill(((year % 100) * 100 + month).astype(str), 4), "."),
        np.char.zfill(index.astype(str), 7),
    )
    weights = 1.0 / np.arange(1, len(CATEGORIES) + 1)
    primary = rng.choice(len(CATEGORIES), size=n, p=weights / weights.sum())
    second = rng.choice(len(CATEGORIES), size=n)
    two = (rng.random(n) < 0.5) & (second != primary)
    counts = 1 + two.astype(np.int32)
    values = np.empty(int(counts.sum()), dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    values[starts] = primary
    values[starts[two] + 1] = second[two]
    names = pa.array(CATEGORIES)
    categories = pa.ListArray.from_arrays(
        pa.array(np.concatenate(([0], np.cumsum(counts))).astype(np.int32)),
        names.take(pa.array(values)),
    )
    epoch = dt.date(1970, 1, 1)
    year_start = np.array(
        [(dt.date(y, 1, 1) - epoch).days for y in range(1991, 2025)], dtype=np.int32
    )
    submitted = year_start[year - 1991] + rng.integers(0, 365, n).astype(np.int32)
    updated = submitted + rng.integers(0, 700, n).astype(np.int32)
    has_doi = rng.random(n) < 0.3
    doi = pa.array(np.char.add("10.1000/gen.", index.astype(str)), mask=~has_doi)
    return pa.table(
        [
            pa.array(ids),
            _strings(base, rng.integers(40, 120, n), rng),
            _strings(base, rng.integers(500, 1500, n), rng),
            categories,
            names.take(pa.array(primary)),
            pa.array(submitted, pa.date32()),
            pa.array(updated, pa.date32()),
            pa.array(year),
            doi,
        ],
        schema=CORPUS_SCHEMA,
    )


def generate(workdir: Path, records: int, weak_records: int, seed: int = 1) -> None:
    """Write ``workdir/arxiv.parquet`` (``records`` rows, with its .sha256) and ``weak.parquet``."""
    rng = np.random.default_rng(seed)
    base = _base_text(rng, 64 << 20)
    repeats = records // 100
    with pq.ParquetWriter(workdir / "arxiv.parquet", CORPUS_SCHEMA, compression="zstd") as out:
        written = 0
        unique = records - repeats
        keys = []
        while written < unique:
            n = min(CHUNK, unique - written)
            chunk = _chunk(written, n, rng, base)
            out.write_table(chunk)
            keys.append(chunk.select(["id", "year", "updated"]))
            written += n
        # Later versions of 1% of the papers: same id, a later update date, new categories.
        again = _chunk(0, repeats, np.random.default_rng(seed + 1), base)
        first = pa.concat_tables(keys)
        pick = np.sort(rng.choice(unique, size=repeats, replace=False))
        later = first.take(pa.array(pick))
        again = again.set_column(0, "id", later["id"]).set_column(7, "year", later["year"])
        newer = pa.array(np.asarray(later["updated"].cast(pa.int32())) + 30, pa.int32())
        again = again.set_column(6, "updated", newer.cast(pa.date32()))
        out.write_table(again.cast(CORPUS_SCHEMA))
    digest = hashlib.sha256((workdir / "arxiv.parquet").read_bytes()).hexdigest()
    (workdir / "arxiv.sha256").write_text(digest + "\n", encoding="utf-8")
    weak_rng = np.random.default_rng(seed + 2)
    weak = pa.concat_tables(
        _chunk(first, min(CHUNK, weak_records - first), weak_rng, base)
        for first in range(0, weak_records, CHUNK)
    )
    weak_ids = np.char.add("W", np.arange(weak_records).astype(str))
    pq.write_table(
        pa.table(
            {
                "id": pa.array(weak_ids),
                "title": weak["title"],
                "abstract": weak["abstract"],
                "doi": pa.nulls(weak_records, pa.string()),
                "year": weak["year"],
                "source": pa.array(["generated"] * weak_records),
            }
        ),
        workdir / "weak.parquet",
    )


def run(workdir: Path) -> None:
    """Time the splits stage of all seven experiments; print JSON lines and peak RSS."""
    from common import labelling_of

    from arxivcat.config import get_experiment, load_yaml, validate_config
    from arxivcat.splits.assign_splits import assign_splits
    from arxivcat.splits.label_splits import build_experiment_data
    from arxivcat.splits.settings import SplitSettings

    config = validate_config(
        load_yaml(REPO / "config" / "config.yaml"), load_yaml(REPO / "config" / "schema.yaml")
    )
    total = 0.0
    splits = {get_experiment(config, name).split for name in config["experiments"]}
    for split in sorted(splits):
        start = time.perf_counter()
        summary = assign_splits(
            workdir / "arxiv.parquet",
            SplitSettings.from_dict(config["splits"][split]),
            workdir / "splits" / split / "assignment.parquet",
            name=split,
        )
        seconds = time.perf_counter() - start
        total += seconds
        print(
            json.dumps(
                {
                    "step": f"assign_splits {split}",
                    "seconds": round(seconds, 2),
                    "papers": summary["papers"],
                    "splits": summary["splits"],
                }
            )
        )
    for name in config["experiments"]:
        experiment = get_experiment(config, name)
        base = workdir / name / "data"
        start = time.perf_counter()
        report = build_experiment_data(
            corpus_path=workdir / "arxiv.parquet",
            assignment_path=workdir / "splits" / experiment.split / "assignment.parquet",
            weak_negatives_path=workdir / "weak.parquet" if experiment.weak_negatives else None,
            output_paths={s: base / f"{s}.parquet" for s in ("train", "validation", "test")},
            report_path=base / "split_report.json",
            experiment=name,
            labelling=labelling_of(experiment),
            digest_path=workdir / "arxiv.sha256",
        )
        seconds = time.perf_counter() - start
        total += seconds
        rows = {s: v["rows"] for s, v in report["splits"].items()}
        print(
            json.dumps(
                {
                    "step": f"build_experiment_data {name}",
                    "seconds": round(seconds, 2),
                    "rows": rows,
                    "weak_negatives": report["weak_negatives"],
                }
            )
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"step": "total", "seconds": round(total, 2), "peak_rss_mib": round(peak_mib)})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--weak", type=int, default=150_000, help="weak-negative candidates")
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp dir)")
    parser.add_argument("--run-only", action="store_true", help="reuse the files in --workdir")
    args = parser.parse_args()
    if args.run_only:
        run(args.workdir)
        print(f"process CPU seconds (user+sys): {sum(os.times()[:2]):.1f}")
        return
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        generate(workdir, args.records, args.weak)
        size = (workdir / "arxiv.parquet").stat().st_size / 2**20
        print(
            f"generated {args.records:,} records ({size:.0f} MiB parquet) and {args.weak:,} "
            f"weak-negative candidates in {time.perf_counter() - start:.1f} s"
        )
        # A fresh process, so the peak RSS is that of the splits stage alone.
        subprocess.run(
            [sys.executable, __file__, "--run-only", "--workdir", str(workdir)], check=True
        )


if __name__ == "__main__":
    main()
