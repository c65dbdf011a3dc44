"""A head for every arXiv category on a generated 100k-record corpus: time and peak memory.

Runs the workflow's stages on ``synthetic:N`` for an experiment with ``heads: every-category``
(or, with ``--pair-heads K``, one head per category listed by 30 papers since 2010 and K more of
two categories each: the generator knows 104 categories, so this is how ~150 heads are reached):
labels (one matrix, papers x heads), tokenize with the tiny BERT, a short training (a fraction of
an epoch), evaluate (every head on validation and test).  Each stage runs in a fresh process,
whose peak resident memory (``VmHWM``) is printed with its time, the number of heads and the
rows.  ``--refit`` turns on ``training.refit_heads`` (every head refit on the trained encoder's
features, at most ``refit_max_rows`` training rows): its seconds, rows and iterations are printed.

Usage: PYTHONPATH=workflow python benchmarks/taxonomy_heads.py [WORKDIR] [--records 100000]
           [--min-positives 50] [--pair-heads 0] [--epochs 0.05] [--refit] [--stages corpus ...]
(WORKDIR first: ``--stages`` takes every name after it.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = {
    "corpus": """
from arxivcat.config import schema_defaults
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.settings import SnapshotSettings
from arxivcat.splits.assign_splits import assign_splits
from arxivcat.splits.settings import SplitSettings
from arxivcat.synthetic.generate_synthetic_snapshot import generate_synthetic_snapshot
source = f"synthetic:{args['records']}"
generate_synthetic_snapshot(source, work / "snapshot.jsonl")
settings = SnapshotSettings.from_dict({**schema_defaults("snapshot"), "source": source})
build_corpus(settings, work / "arxiv.parquet", work / "arxiv.sha256", work / "m.json", work,
             snapshot_path=work / "snapshot.jsonl")
from arxivcat.config import load_schema, load_yaml, validate_config
config = validate_config(load_yaml(args["config"]), load_schema())
split = {**config["splits"]["reference"], "min_year": 2010}
assign_splits(work / "arxiv.parquet", SplitSettings.from_dict(split), work / "assignment.parquet",
              name="reference")
""",
    "label_splits": """
import pyarrow.compute as pc, pyarrow.parquet as pq
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.settings import LabellingSettings
heads = "every-category"
if args["pair_heads"]:
    papers = pq.read_table(work / "arxiv.parquet", columns=["categories", "year"])
    listed = papers.filter(pc.field("year") >= 2010).column("categories")
    ranked = pc.value_counts(pc.list_flatten(listed)).to_pylist()
    names = [c["values"] for c in sorted(ranked, key=lambda c: -c["counts"]) if c["counts"] >= 30]
    heads = {name: (name,) for name in names}
    pairs = zip(names[0::2], names[1::2], strict=False)
    heads |= {f"{a}+{b}": (a, b) for a, b in list(pairs)[: args["pair_heads"]]}
labelling = LabellingSettings((), 0.0, "any", 100, heads, args["min_positives"])
build_experiment_data(work / "arxiv.parquet", work / "assignment.parquet", None,
                      {s: work / f"{s}.parquet" for s in ("train", "validation", "test")},
                      work / "split_report.json", "taxonomy", labelling)
""",
    "tokenize": """
from arxivcat.model.tokenize import tokenize_splits
tokenize_splits({s: work / f"{s}.parquet" for s in ("train", "validation", "test")},
                "builtin:tiny-bert", 64, work / "tokenized", num_proc=2)
""",
    "train": """
from arxivcat.model.train import train_model
from arxivcat.model.settings import TrainingSettings
from arxivcat.config import schema_defaults
settings = TrainingSettings.from_dict({**schema_defaults("training"), **args["training"]})
train_model(work / "tokenized", work / "model", work / "store", settings, 2)
""",
    "evaluate": """
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.settings import TrainingSettings
from arxivcat.config import schema_defaults
settings = TrainingSettings.from_dict({**schema_defaults("training"), **args["training"]})
evaluate_model(work / "model", work / "tokenized", work / "metrics.json",
               work / "predictions.parquet", settings)
""",
}
PREAMBLE = """
import json, logging, sys
from pathlib import Path
logging.basicConfig(level=logging.WARNING)
work, args = Path(sys.argv[1]), json.loads(sys.argv[2])
"""
EPILOGUE = """
peak = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
print("PEAK_KB", peak)
"""


def run_stage(name: str, work: Path, args: dict) -> tuple[float, float]:
    """Run one stage in a fresh process; return (seconds, peak MiB)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PREAMBLE + STAGES[name] + EPILOGUE, str(work), json.dumps(args)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    peak = next(line for line in done.stdout.splitlines() if line.startswith("PEAK_KB"))
    return time.monotonic() - started, int(peak.split()[1]) / 1024


def print_refit(info: dict) -> None:
    """Print the head refit's record from ``training_info.json``."""
    refit = info["head_refit"]
    steps = [head["iterations"] for head in refit["heads"]]
    print(
        f"head refit: {len(steps)} heads x {len(refit['heads'][0]['grid'])} Cs on "
        f"{refit['rows']['train']:,} of {refit['train_rows_available']:,} training rows and "
        f"{refit['rows']['validation']:,} validation rows: {refit['seconds']:.0f} s "
        f"({refit['cpu_seconds']:.0f} CPU s), {refit['fit_seconds']:.0f} s of them the fits; "
        f"chosen fits' iterations median {sorted(steps)[len(steps) // 2]}, most {max(steps)}"
    )


def main(work: Path, options: argparse.Namespace) -> None:
    """Run ``options.stages`` in ``work`` and print their seconds and peak memory."""
    records, min_positives, pair_heads = options.records, options.min_positives, options.pair_heads
    epochs, stages = options.epochs, options.stages
    training = {
        "model": "builtin:tiny-bert", "max_length": 64, "num_epochs": epochs,
        "train_batch_size": 64, "eval_batch_size": 256, "learning_rate": 1e-3,
        "device": "cpu", "pos_weight": "auto", "checkpoint_minutes": 0,
        "refit_heads": options.refit,
    }  # fmt: skip
    config = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
    args = {"records": records, "min_positives": min_positives, "pair_heads": pair_heads,
            "training": training, "config": str(config)}  # fmt: skip
    print(f"| stage | seconds | peak RSS (MiB) |  ({records:,} generated records)")
    print("|---|---:|---:|")
    for name in stages:
        seconds, peak = run_stage(name, work, args)
        print(f"| {name} | {seconds:.0f} | {peak:,.0f} |", flush=True)
    report = json.loads((work / "split_report.json").read_text())
    rows = {s: v["rows"] for s, v in report["splits"].items()}
    chosen = f"categories with at least {min_positives} positive training papers"
    if pair_heads:
        chosen = f"one per category of 30 papers since 2010, {pair_heads} of category pairs"
    print(
        f"\n{len(report['heads'])} heads ({chosen}; {len(report['dropped_heads'])} left out for "
        f"a split without a positive); rows {rows}"
    )
    if options.refit and "train" in stages:
        print_refit(json.loads((work / "model" / "training_info.json").read_text()))
    if "evaluate" in stages:
        metrics = json.loads((work / "metrics.json").read_text())
        print(f"test micro F1 {metrics['test']['f1']:.3f}, macro F1 "
              f"{metrics['test']['macro_f1']:.3f} after {epochs:g} epoch")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep files here")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--min-positives", type=int, default=50)
    parser.add_argument("--pair-heads", type=int, default=0, help="heads of two categories")
    parser.add_argument("--epochs", type=float, default=0.05)
    parser.add_argument("--refit", action="store_true", help="refit the heads after training")
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=list(STAGES),
        default=list(STAGES),
        help="run only these (corpus and label_splits for the label matrix alone)",
    )
    options = parser.parse_args()
    if options.workdir:
        options.workdir.mkdir(parents=True, exist_ok=True)
        main(options.workdir, options)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main(Path(scratch), options)
