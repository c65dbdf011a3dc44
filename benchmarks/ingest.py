"""Ingest throughput and peak memory of the download stage's normalization (not a test).

Writes a synthetic JSON-lines snapshot of N records (``arxivcat.synthetic`` when available,
otherwise the real 1,000-record sample in ../shared repeated with fresh ids), then runs
``build_corpus`` on it in a child process per size and prints records/s and the child's peak
RSS.  Run: ``PYTHONPATH=workflow python benchmarks/ingest.py --records 500000 1000000``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared/data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl"


def write_snapshot(path: Path, n: int) -> None:
    try:
        from arxivcat.synthetic import write_snapshot as synthetic
    except ImportError:
        synthetic = None
    if synthetic is not None:
        synthetic(path, n, seed=0)
        return
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(n):
            record = json.loads(lines[number % len(lines)])
            record["id"] = f"{7 + number // 99_999:02d}{1 + number % 12:02d}.{number % 99_999:05d}"
            handle.write(json.dumps(record) + "\n")


def run_child(snapshot: Path, out: Path) -> None:
    from arxivcat.snapshot import build_corpus

    start = time.perf_counter()
    manifest = build_corpus(str(snapshot), None, out / "c.parquet", out / "d", out / "m.json", out)
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"records": manifest["records"], "seconds": elapsed, "peak_mib": peak_mib}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[500_000, 1_000_000])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(Path(args.child[0]), Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.records:
            snapshot = Path(tmp) / f"snap-{n}.jsonl"
            write_snapshot(snapshot, n)
            size = snapshot.stat().st_size / 2**20
            result = subprocess.run(
                [sys.executable, __file__, "--child", str(snapshot), tmp],
                capture_output=True,
                text=True,
                check=True,
            )
            stats = json.loads(result.stdout.strip().splitlines()[-1])
            rate = stats["records"] / stats["seconds"]
            print(
                f"{n:>9,} records ({size:,.0f} MiB): {stats['seconds']:.1f} s, "
                f"{rate:,.0f} records/s, peak RSS {stats['peak_mib']:,.0f} MiB"
            )
            snapshot.unlink()


if __name__ == "__main__":
    main()
