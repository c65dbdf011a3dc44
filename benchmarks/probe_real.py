"""What the fine-tune buys over the frozen encoder, on the real 2010-2019 records; the embed stage.

Quality: cv-32, nlp-32 and ro-32 (the shipped label sets, reference split) on the 20,000 real
records of ../shared, each scored three ways through the workflow's stages: fine-tuned (tokenize,
train, evaluate, choose_threshold: MiniLM, one epoch, ``--sample-pct`` of the training papers,
``--max-length`` tokens), the frozen probe (``embed_split`` once for the split, ``train_probe``
per experiment on the same rows) and TF-IDF (``train_baseline``).  Prints each one's test F1 at
its own threshold chosen on validation and its CPU seconds: the fine-tune's training and test
pass, the probe's fits and its share of the embedding pass, the TF-IDF fit and scoring.

Speed: the embed stage (``embed_split``: one tokenizer call per chunk, length-sorted batches,
bf16 on a CPU that multiplies it in hardware) against a plain ``transformers`` loop as a user
writes it (``AutoModel``, batches of 32 in arrival order padded to their longest paper, fp32,
the same mean pooling) on the same ``--papers`` papers of the split, at each ``--lengths``; both
timed from loading the model to the last embedding, and their embeddings compared.

Memory: ``embed_split`` in a fresh process on a generated corpus of N and of 2N records
(``builtin:tiny-bert``), each reporting its peak RSS (``VmHWM``): it should not grow with N.

Usage: HF_HUB_OFFLINE=1 PYTHONPATH=workflow python benchmarks/probe_real.py [--papers 1000]
           [--memory-records 50000] [WORKDIR]  (0 skips the speed or the memory part)
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

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pyarrow.parquet as pq
import torch
from common import experiment_tables, real_corpus, require_shared, shipped_config

from arxivcat.config import load_schema, schema_defaults, validate_config
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.loading import resolve_model
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.tokenize import tokenize_splits
from arxivcat.model.train import train_model
from arxivcat.model.train_baseline import train_baseline
from arxivcat.probe.embed import embed_split
from arxivcat.probe.papers import SplitPapers
from arxivcat.probe.settings import EmbedSettings, EncoderSettings, ProbeSettings
from arxivcat.probe.train_probe import train_probe
from arxivcat.report.choose_threshold import choose_threshold
from arxivcat.splits.assign_splits import assign_splits
from arxivcat.splits.settings import SplitSettings
from arxivcat.splits.table_schema import column_matrix
from arxivcat.synthetic.generate import write_snapshot

NAMES = ("cv-32", "nlp-32", "ro-32")
MODEL = "builtin:minilm"


def timed(function):
    """``function()``, and the wall and CPU seconds it took."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def bench_config(sample_pct: float, max_length: int) -> dict:
    """The three experiments as shipped, with one small training budget."""
    config = shipped_config()
    config["experiments"] = {
        name: {**config["experiments"][name], "sample_pct": sample_pct} for name in NAMES
    }
    config["training"].update(
        model=MODEL, max_length=max_length, num_epochs=1, learning_rate=5e-5,
        train_batch_size=32, eval_batch_size=64, device="cpu", logging_steps=100,
        progress_seconds=120, checkpoint_minutes=0,
    )  # fmt: skip
    return validate_config(config, load_schema())


def embed_settings(**overrides) -> EmbedSettings:
    return EmbedSettings.from_dict({**schema_defaults("embed"), "device": "cpu", **overrides})


def fine_tune(item, workdir: Path) -> dict:
    """Tokenize, train (timed), evaluate, choose the threshold; test F1 at it and CPU seconds."""
    base = workdir / item.name
    settings = TrainingSettings.from_dict(item.experiment.training)
    tokenize_splits(item.tables, settings.model, settings.max_length, base / "tokenized")
    _, _, cpu = timed(
        lambda: train_model(base / "tokenized", base / "model", base / "store", settings, 2)
    )
    metrics = evaluate_model(base / "model", base / "tokenized", base / "metrics.json",
                             base / "predictions.parquet", settings)  # fmt: skip
    chosen = choose_threshold(base / "predictions.parquet")
    return {
        "f1": chosen["test"]["at_threshold"]["f1"],
        "positives": metrics["test"]["positives"],
        "train_cpu": cpu,
        "test_pass_cpu": metrics["test"]["pass"]["cpu_seconds"],
    }


def tfidf(item, workdir: Path) -> dict:
    record, _, cpu = timed(
        lambda: train_baseline(item.tables, workdir / item.name / "tfidf.json", seed=1)
    )
    return {"f1": record["threshold"]["test"]["at_threshold"]["f1"], "cpu": cpu}


def probes(items, workdir: Path) -> tuple[dict, dict]:
    """The split's one embedding, then each experiment's probe on it."""
    first = items[0]
    encoder = EncoderSettings(MODEL, first.experiment.training["max_length"])
    out = workdir / "embeddings"
    manifest = embed_split(
        first.corpus, first.assignment, out / "embeddings.parquet",
        out / "embeddings.json", out / "store", encoder, embed_settings(progress_seconds=120),
    )  # fmt: skip
    settings = ProbeSettings.from_dict(schema_defaults("probe"))
    embeddings, record = out / "embeddings.parquet", out / "embeddings.json"
    records = {
        item.name: train_probe(
            item.tables, [(embeddings, record)], workdir / item.name / "probe.json", settings
        )
        for item in items
    }
    return manifest, records


def quality(args: argparse.Namespace, workdir: Path) -> list:
    config = bench_config(args.sample_pct, args.max_length)
    items = experiment_tables(workdir, list(NAMES), config)
    manifest, records = probes(items, workdir)
    pass_ = manifest["pass"]
    print(f"\nembedding pass: {pass_['rows']:,} papers, {pass_['seconds']:.0f} s, "
          f"{pass_['cpu_seconds']:.0f} CPU s, {pass_['placement']}, "
          f"{manifest['encoder']['pooling']['description']}", flush=True)  # fmt: skip
    rows = []
    for item in items:
        probe = records[item.name]
        share = probe["embedding"]
        rows.append((item.name, fine_tune(item, workdir), tfidf(item, workdir), probe, share))
    print(f"\nMiniLM, {args.max_length} tokens, 1 epoch, {args.sample_pct:g}% of training, CPU; "
          "test F1 at each scorer's own validation threshold\n")  # fmt: skip
    print("| experiment | test positives | fine-tune | frozen probe (C) | TF-IDF | fine-tune CPU s "
          "(train + test pass) | probe CPU s (fit + embedding share) | TF-IDF CPU s |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, tuned, text, probe, share in rows:
        print(
            f"| {name} | {tuned['positives']} | {tuned['f1']:.3f} | "
            f"{probe['threshold']['test']['at_threshold']['f1']:.3f} ({probe['C']:g}) | "
            f"{text['f1']:.3f} | {tuned['train_cpu']:.0f} + {tuned['test_pass_cpu']:.0f} | "
            f"{probe['fit_cpu_seconds']:.0f} + {share['cpu_seconds']:.0f} "
            f"({share['rows']:,} of {share['of']:,} papers) | {text['cpu']:.0f} |",
            flush=True,
        )
    return items


def plain_embeddings(
    path: str, titles: list, abstracts: list, max_length: int
) -> tuple[np.ndarray, float]:
    """A user's loop: AutoModel in fp32, batches of 32 in arrival order, mean pooling.

    Returns:
        The embeddings, and the padded tokens its batches carried per real token.
    """
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    out, padded, real = [], 0, 0
    with torch.inference_mode():
        for start in range(0, len(titles), 32):
            batch = tokenizer(titles[start : start + 32], abstracts[start : start + 32],
                              padding=True, truncation="only_second", max_length=max_length,
                              return_tensors="pt")  # fmt: skip
            states = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            mean = (states * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(mean, dim=-1).numpy())
            padded, real = padded + mask.numel(), real + int(mask.sum())
    return np.concatenate(out), padded / real


def throughput(args: argparse.Namespace, item, workdir: Path) -> None:
    """The embed stage against the plain loop on the same papers of the split."""
    assignment = pq.read_table(item.assignment).slice(0, args.papers)
    subset = workdir / "throughput" / "assignment.parquet"
    subset.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(assignment, subset)
    # The stage's papers (latest versions), in corpus order: the plain loop's arrival order.
    (papers,) = SplitPapers(item.corpus, subset).chunks(args.papers)
    path = resolve_model(MODEL).path
    print(f"\nembedding {len(papers):,} papers of the split on CPU ({torch.get_num_threads()} "
          "threads)\n")  # fmt: skip
    print("| max length | embed stage papers/s (per CPU s) | plain loop papers/s (per CPU s) "
          "| speed-up wall (CPU) | padded/real tokens, stage / plain | min cosine |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|")
    for length in args.lengths:
        out = workdir / "throughput" / str(length)
        (plain, plain_padding), plain_wall, plain_cpu = timed(
            lambda length=length: plain_embeddings(path, papers.titles, papers.abstracts, length)
        )
        manifest, wall, cpu = timed(lambda length=length, out=out: embed_split(
            item.corpus, subset, out / "e.parquet", out / "e.json", out / "store",
            EncoderSettings(MODEL, length), embed_settings(progress_seconds=1e9),
        ))  # fmt: skip
        stage = pq.read_table(out / "e.parquet")
        position = {paper: i for i, paper in enumerate(stage["id"].to_pylist())}
        ours = column_matrix(stage["embedding"])[[position[p] for p in papers.ids]]
        cosine = float((ours * plain).sum(axis=1).min())
        n, padding = (
            len(papers),
            manifest["pass"]["padded_tokens"] / manifest["pass"]["real_tokens"],
        )
        print(f"| {length} | {n / wall:.1f} ({n / cpu:.1f}) | {n / plain_wall:.1f} "
              f"({n / plain_cpu:.1f}) | {plain_wall / wall:.2f}x ({plain_cpu / cpu:.2f}x) | "
              f"{padding:.3f} / {plain_padding:.3f} | {cosine:.5f} |", flush=True)  # fmt: skip


CHILD = """
import json, sys, time
from arxivcat.config import schema_defaults
from arxivcat.probe.embed import embed_split
from arxivcat.probe.settings import EmbedSettings, EncoderSettings
corpus, assignment, out, chunk_rows = sys.argv[1:5]
settings = EmbedSettings.from_dict({**schema_defaults("embed"), "device": "cpu",
                                    "chunk_rows": int(chunk_rows), "progress_seconds": 1e9})
started = time.perf_counter()
manifest = embed_split(corpus, assignment, f"{out}/e.parquet", f"{out}/e.json",
                       f"{out}/store", EncoderSettings("builtin:tiny-bert", 64), settings)
# VmHWM is this process's own peak (ru_maxrss would carry the parent's peak over the exec).
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"papers": manifest["papers"], "seconds": time.perf_counter() - started,
                  "peak_rss_mib": int(peak.split()[1]) / 1024}))
"""


def memory(args: argparse.Namespace, workdir: Path) -> None:
    """Peak RSS of the embed stage on N and 2N generated records, each in a fresh process."""
    print(f"\nembed stage peak memory (tiny BERT, chunks of {args.chunk_rows:,})\n")
    print("| records | papers embedded | seconds | peak RSS (MiB) |")
    print("|---:|---:|---:|---:|")
    split = SplitSettings.from_dict(shipped_config()["splits"]["reference"])
    for n in (args.memory_records, 2 * args.memory_records):
        base = workdir / f"memory-{n}"
        base.mkdir(parents=True)
        write_snapshot(base / "snapshot.jsonl", n, seed=1)
        corpus = real_corpus(base, base / "snapshot.jsonl")
        (base / "snapshot.jsonl").unlink()
        assign_splits(corpus, split, base / "assignment.parquet", name="reference")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(corpus), str(base / "assignment.parquet"),
             str(base), str(args.chunk_rows)],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"| {n:,} | {result['papers']:,} | {result['seconds']:.0f} | "
              f"{result['peak_rss_mib']:.0f} |", flush=True)  # fmt: skip


def main(args: argparse.Namespace, workdir: Path) -> None:
    items = quality(args, workdir)
    if args.papers:
        throughput(args, items[0], workdir)
    if args.memory_records:
        memory(args, workdir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path, help="keep files here")
    parser.add_argument("--sample-pct", type=float, default=25, help="training papers kept (%%)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument(
        "--papers", type=int, default=1000, help="papers of the speed test; 0: skip"
    )
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 512])
    parser.add_argument("--memory-records", type=int, default=50_000, help="N (and 2N); 0: skip")
    parser.add_argument("--chunk-rows", type=int, default=5_000)
    args = parser.parse_args()
    require_shared()
    if args.workdir:
        main(args, args.workdir)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            main(args, Path(scratch))
