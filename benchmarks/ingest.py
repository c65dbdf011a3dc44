"""Ingest throughput and peak memory of the download stage (JSON lines -> corpus parquet).

Not a test.  For each size N (default 500,000 and its double) it writes a synthetic snapshot with
``arxivcat.synthetic.generate.write_snapshot``, then runs ``build_corpus`` on it in a fresh child
process and prints, side by side: records/s over the ingest's wall time and over its CPU time
(user + system, less sensitive to a busy machine), the child's RSS before the ingest (interpreter
and imports) and its peak RSS.  Generating the input is not timed.  Issue 3's target: at least
50,000 records/s on one core, peak RSS under 1 GB and flat when the input doubles.

Run: ``PYTHONPATH=workflow python benchmarks/ingest.py [--records 500000 1000000]``.
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


def _rss_mib() -> float:
    """Current resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def run_child(snapshot: Path, out: Path) -> None:
    """Ingest ``snapshot`` into ``out`` and print one JSON line of measurements."""
    from arxivcat.config import schema_defaults
    from arxivcat.data.download_snapshot import build_corpus
    from arxivcat.data.settings import SnapshotSettings

    before_mib = _rss_mib()
    cpu = time.process_time()
    wall = time.perf_counter()
    defaults = schema_defaults("snapshot")
    settings = SnapshotSettings.from_dict({**defaults, "source": str(snapshot), "sha256": None})
    manifest = build_corpus(settings, out / "c.parquet", out / "d", out / "m.json", out)
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "records": manifest["records"],
        "wall_s": wall,
        "cpu_s": cpu,
        "before_mib": before_mib,
        "peak_mib": peak_mib,
    }
    print(json.dumps(result))


def main() -> None:
    """Generate each snapshot, ingest it in a child process, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[500_000, 1_000_000])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(Path(args.child[0]), Path(args.child[1]))
        return
    from arxivcat.synthetic.generate import write_snapshot

    header = (
        f"{'records':>10} {'input MiB':>9} {'wall s':>7} {'rec/s wall':>10} {'cpu s':>7} "
        f"{'rec/s cpu':>10} {'RSS before MiB':>14} {'peak RSS MiB':>12}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.records:
            snapshot = Path(tmp) / f"snapshot-{n}.jsonl"
            write_snapshot(snapshot, n, seed=0)
            size = snapshot.stat().st_size / 2**20
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(snapshot), tmp],
                capture_output=True,
                text=True,
                check=True,
            )
            stats = json.loads(child.stdout.strip().splitlines()[-1])
            rows.append(
                f"{stats['records']:>10,} {size:>9,.0f} {stats['wall_s']:>7.1f} "
                f"{stats['records'] / stats['wall_s']:>10,.0f} {stats['cpu_s']:>7.1f} "
                f"{stats['records'] / stats['cpu_s']:>10,.0f} {stats['before_mib']:>14,.0f} "
                f"{stats['peak_mib']:>12,.0f}"
            )
            snapshot.unlink()
    print("ingest = build_corpus: hash the input, normalize, write parquet, hash, manifest")
    print(header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
