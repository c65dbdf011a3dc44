"""Throughput and memory of the synthetic snapshot generator (generation + JSON serialisation).

Usage: python benchmarks/synthetic_generate.py [N] [--gz] [--out PATH]

Prints records per second, the output size and the peak resident set size; memory should not
grow with N (the generator streams).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from arxivcat.synthetic.generate import write_snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=200_000, help="records to generate")
    parser.add_argument("--gz", action="store_true", help="gzip the output")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--out", type=Path, help="output file (default: a temporary file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / ("snapshot.jsonl" + (".gz" if args.gz else ""))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu0, wall0 = time.process_time(), time.perf_counter()
        written = write_snapshot(out, args.n, seed=args.seed, compress="gz" if args.gz else None)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        size = out.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"python {sys.version.split()[0]}, records {written:,}, gzip {args.gz}")
    print(f"wall {wall:.2f} s, cpu {cpu:.2f} s")
    print(f"records/s (wall) {written / wall:,.0f}, records/s (cpu) {written / cpu:,.0f}")
    print(f"output {size / 2**20:.1f} MiB ({size / max(written, 1):.0f} bytes/record)")
    print(f"peak RSS {peak / 1024:.1f} MiB (before generating {rss_before / 1024:.1f} MiB)")


if __name__ == "__main__":
    main()
