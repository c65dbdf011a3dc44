"""The TF-IDF baseline before and after it was made fair, on the real 2010-2019 records.

For each of the seven reference experiments (labelled on the 20,000 real records of ../shared,
reference split), the baseline stage is run twice on the same tables: unweighted (the earlier
baseline) and with balanced class weights (the stage's default).  Each is reported at 0.5 and at
its own threshold chosen on validation; the earlier cards quoted the first column.  ../shared
holds 154 usable real weak negatives, so the two weak-negative experiments take 1% of the
training size instead of 10%.

Usage: PYTHONPATH=workflow python benchmarks/baselines_real.py [WORKDIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import experiment_tables, require_shared, shipped_config

from arxivcat.model.train_baseline import train_baseline


def main(workdir: Path) -> None:
    config = shipped_config()
    names = list(config["experiments"])
    for name in names:
        if config["experiments"][name].get("weak_negatives"):
            config["experiments"][name]["weak_negatives"] = 0.01
    print(
        "| experiment | test positives | unweighted, 0.5 (before) | unweighted, own threshold "
        "| balanced, 0.5 | balanced, own threshold (after) | seconds (balanced) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for item in experiment_tables(workdir, names, config):
        seed = int(item.experiment.training["seed"])
        cells = []
        for weight in (None, "balanced"):
            output = workdir / item.name / f"baseline-{weight}.json"
            result = train_baseline(item.tables, output, seed, class_weight=weight)
            chosen = result["threshold"]
            cells += [
                f"{result['test']['f1']:.3f}",
                f"{chosen['test']['at_threshold']['f1']:.3f} (t={chosen['threshold']:.3f})",
            ]
        report = json.loads(item.report.read_text())["splits"]["test"]
        print(
            f"| {item.name} | {report['positives']} of {report['rows']} "
            f"({report['positive_rate']:.1%}) | "
            + " | ".join(cells)
            + f" | {result['train_seconds']:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep files here")
    args = parser.parse_args()
    require_shared()
    if args.workdir:
        main(args.workdir)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main(Path(scratch))
