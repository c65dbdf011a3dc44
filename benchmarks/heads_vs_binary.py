"""One multi-head model against one binary model per question, on the real 2010-2019 records.

The reference's five fields (AI, CV, NLP, RO, cyber) are asked twice on the 20,000 real records of
../shared, reference split: once as one experiment with five heads, once as five binary
experiments, all through the workflow's stages (labels, tokenize, train, evaluate, threshold)
with the same training budget (MiniLM, ``--epochs`` epochs, the same rows and settings,
pos_weight auto).
Prints each head's test F1 beside its binary model's (at 0.5 and at each one's own threshold
chosen on validation) and the training compute of each: samples processed and CPU seconds of
the train stage.  ../shared holds 154 usable real weak negatives, so every experiment takes 1%
of its training size as weak negatives.

Usage: PYTHONPATH=workflow python benchmarks/heads_vs_binary.py [--sample-pct 50] [--epochs 1]
           [WORKDIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import experiment_tables, require_shared, shipped_config

from arxivcat.config import load_schema, validate_config
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.tokenize import tokenize_splits
from arxivcat.model.train import train_model
from arxivcat.report.choose_threshold import choose_threshold

FIELDS = {
    "AI": ["cs.AI", "cs.CL", "cs.CV", "cs.LG", "cs.MA", "cs.RO", "stat.ML"],
    "CV": ["cs.CV"],
    "NLP": ["cs.CL"],
    "RO": ["cs.RO"],
    "Cyber": ["cs.CR"],
}


def bench_config(sample_pct: float, max_length: int, epochs: float) -> dict:
    """The five binary experiments and the five-head one, with one training budget."""
    config = shipped_config()
    common = {"weak_negatives": 0.01, "sample_pct": sample_pct}
    config["experiments"] = {name.lower(): {"labels": labels, **common}
                             for name, labels in FIELDS.items()}  # fmt: skip
    config["experiments"]["fields"] = {"heads": FIELDS, **common}
    config["training"].update(
        model="builtin:minilm", max_length=max_length, num_epochs=epochs, learning_rate=5e-5,
        train_batch_size=32, eval_batch_size=64, device="cpu", pos_weight="auto",
        logging_steps=100, progress_seconds=120, checkpoint_minutes=0,
    )  # fmt: skip
    return validate_config(config, load_schema())


def run(item, workdir: Path) -> dict:
    """Tokenize, train (timed), evaluate and choose thresholds for one experiment."""
    base = workdir / item.name
    settings = TrainingSettings.from_dict(item.experiment.training)
    tokenize_splits(item.tables, settings.model, settings.max_length, base / "tokenized")
    wall, cpu = time.monotonic(), time.process_time()
    info = train_model(base / "tokenized", base / "model", base / "store", settings, 2)
    train = {"wall": time.monotonic() - wall, "cpu": time.process_time() - cpu}
    evaluate_model(base / "model", base / "tokenized", base / "metrics.json",
                   base / "predictions.parquet", settings)  # fmt: skip
    chosen = choose_threshold(base / "predictions.parquet")
    metrics = json.loads((base / "metrics.json").read_text())
    samples = round(info["train_samples"] * settings.num_epochs)
    return {"metrics": metrics, "threshold": chosen, "train": train, "samples": samples}


def main(workdir: Path, sample_pct: float, max_length: int, epochs: float) -> None:
    config = bench_config(sample_pct, max_length, epochs)
    names = [*(n.lower() for n in FIELDS), "fields"]
    results = {item.name: run(item, workdir) for item in experiment_tables(workdir, names, config)}
    multi = results["fields"]
    print(f"\nMiniLM, {max_length} tokens, {epochs:g} epoch(s), {sample_pct:g}% of training, CPU\n")
    print("| head | test positives | test F1 at 0.5 (head / binary) | test F1 at own threshold "
          "(head / binary) | difference at own threshold |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    worst = 0.0
    for head in FIELDS:
        ours = multi["metrics"]["heads"][head]["test"]
        theirs = results[head.lower()]["metrics"]["test"]
        ours_t = multi["threshold"]["heads"][head]["test"]["at_threshold"]["f1"]
        theirs_t = results[head.lower()]["threshold"]["test"]["at_threshold"]["f1"]
        worst = min(worst, ours_t - theirs_t)
        print(f"| {head} | {theirs['positives']} | {ours['f1']:.3f} / {theirs['f1']:.3f} | "
              f"{ours_t:.3f} / {theirs_t:.3f} | {ours_t - theirs_t:+.3f} |")  # fmt: skip
    binary = [results[h.lower()] for h in FIELDS]
    cpu = sum(r["train"]["cpu"] for r in binary)
    samples = sum(r["samples"] for r in binary)
    print(
        f"\ntraining compute: multi-head {multi['samples']:,} samples, "
        f"{multi['train']['cpu']:.0f} CPU s ({multi['train']['wall']:.0f} s wall); five binary "
        f"models {samples:,} samples, {cpu:.0f} CPU s "
        f"({sum(r['train']['wall'] for r in binary):.0f} s wall); ratio "
        f"{multi['samples'] / samples:.2f} (samples), {multi['train']['cpu'] / cpu:.2f} (CPU)"
    )
    print(
        f"targets: compute at most 0.25 of the binary family's: "
        f"{'met' if multi['train']['cpu'] / cpu <= 0.25 else 'not met'}; every head within "
        f"0.02 test F1 of its binary model: {'met' if worst >= -0.02 else 'not met'} "
        f"(worst {worst:+.3f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep files here")
    parser.add_argument("--sample-pct", type=float, default=50, help="training papers kept (%%)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=1)
    args = parser.parse_args()
    require_shared()
    if args.workdir:
        main(args.workdir, args.sample_pct, args.max_length, args.epochs)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main(Path(scratch), args.sample_pct, args.max_length, args.epochs)
