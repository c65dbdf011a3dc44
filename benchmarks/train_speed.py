"""Training and evaluation samples/s: the train and evaluate stages against a plain baseline.

The same real arXiv abstracts (by default the 2,100 recent CS records in ``../shared/data/arxiv``)
are tokenized by the tokenize stage: a training pool and held-out evaluation rows.

- project: the train stage (``train_model`` with the shipped settings and this benchmark's model,
  device, length and batch) trains one epoch over the pool: length-grouped batches with dynamic
  padding (to a multiple of 8 on CUDA), SDPA attention, bf16 and fused AdamW on CUDA, TF32,
  optional ``torch.compile``.  Its samples/s and padded tokens/sample are read from the step
  record it writes (``training_info.json``: ``training_steps``), its first ``--warmup-steps``
  steps left out (the first is the epoch's longest batch, so the measured steps pad slightly less
  than the whole epoch: both are printed).  Then the evaluate stage (``evaluate_model``) scores
  the held-out rows (its test split), read from its pass record (``metrics.json``: ``test.pass``).
- baseline: the benchmarks' plain loop (``common.PlainTraining``): every sequence padded to
  ``max_length`` (512), fp32 without TF32, random batches of the same pool, eager attention, plain
  AdamW; evaluation in row order, padded alike.  Half its steps run before the stage's epoch and
  half after, so that a noisy shared machine slows both alike.

Timing: wall time and process CPU time (all threads of this process) of every step and pass.  On
a CPU shared with other jobs, wall time also counts the time spent waiting for a core, so **CPU
time per sample is the fair comparison there**; on CUDA use the wall figures.

Usage (CPU)::

    HF_HUB_OFFLINE=1 python benchmarks/train_speed.py
    # GPU, BERT-base-sized random model (BertConfig() defaults), max length 512:
    python benchmarks/train_speed.py --model bert-base --device cuda --baseline-steps 20 \
        --warmup-steps 3 --eval-samples 512
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning, so that process CPU time counts work, not waiting
# for a thread that another job's process has pre-empted.  Read by OpenMP when torch loads; the
# same for both settings.  Export OMP_WAIT_POLICY=ACTIVE to measure the spinning default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import common
import torch
from datasets import DatasetDict
from transformers import AutoTokenizer

from arxivcat.model.devices import resolve_device
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.tokenize import TOKENIZER_SUBDIR
from arxivcat.model.train import train_model


@dataclass(frozen=True)
class Data:
    """The tokenized pool (train) and held-out rows (test), and the stages' settings."""

    directory: Path
    dataset: DatasetDict
    tokenizer: object
    settings: TrainingSettings


def baseline_batches(
    plain: common.PlainTraining, data: Data, args: argparse.Namespace
) -> list[dict[str, torch.Tensor]]:
    """Warm the baseline up; return its timed batches, random batches of the pool."""
    batches = common.padded_batches(
        data.dataset["train"], data.tokenizer, args.batch_size, args.max_length, args.seed
    )
    warmup_rows = args.warmup_batch_size or (args.batch_size if plain.device.type == "cuda" else 8)
    for _ in range(args.warmup_steps):
        plain.step({k: v[:warmup_rows] for k, v in next(batches).items()})
    plain.reset()
    return [next(batches) for _ in range(args.baseline_steps)]


def baseline_evaluation(plain: common.PlainTraining, data: Data, args: argparse.Namespace) -> dict:
    """The baseline's forward passes over the held-out rows in order, as a pass record."""
    split = data.dataset["test"]
    batches = common.padded_batches(
        split, data.tokenizer, args.eval_batch_size, args.max_length, None
    )
    inputs = [{k: v for k, v in batch.items() if k != "labels"} for batch in batches]
    plain.model.eval()
    common.synchronize(plain.device)
    wall, cpu = time.perf_counter(), time.process_time()
    with torch.no_grad(), common.plain_fp32():
        for batch in inputs:
            plain.model(**{k: v.to(plain.device) for k, v in batch.items()}).logits.cpu()
    common.synchronize(plain.device)
    return {
        "rows": len(split),
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "padded_tokens": len(split) * args.max_length,
    }


def rates(record: dict) -> dict[str, float]:
    """Samples/s of wall and of CPU time, and padded tokens/sample, of a pass or steps record."""
    samples = record.get("samples") or record["rows"]
    return {
        "wall": samples / record["seconds"],
        "cpu": samples / record["cpu_seconds"],
        "tokens": record["padded_tokens"] / samples,
    }


def prepare(args: argparse.Namespace, work: Path) -> Data:
    """Tokenize the real papers with the tokenize stage; the stages' settings."""
    papers = common.real_papers(args.records, args.seed)
    held_out, pool = papers[: args.eval_samples], papers[args.eval_samples :]
    pool = pool[: args.train_rows or len(pool)]
    if len(pool) <= args.batch_size * args.warmup_steps or not held_out:
        raise SystemExit(f"{args.records}: too few records for {args.eval_samples} held-out rows")
    model = args.model
    if model == "bert-base":
        model = str(work / "bert-base")
        common.random_bert(Path(model), args.seed, args.max_length)
    tokenizer = "builtin:minilm" if args.model == "bert-base" else args.model
    splits = {"train": pool, "validation": held_out[: args.eval_batch_size], "test": held_out}
    directory = work / "tokenized"
    dataset = common.tokenized_papers(splits, tokenizer, args.max_length, directory)
    settings = common.training_settings(
        model=model, device=args.device, max_length=args.max_length, seed=args.seed,
        train_batch_size=args.batch_size, eval_batch_size=args.eval_batch_size, num_epochs=1,
        precision="fp32" if args.fp32 else "auto", torch_compile=args.compile,
    )  # fmt: skip
    tokenizer = AutoTokenizer.from_pretrained(str(directory / TOKENIZER_SUBDIR))
    return Data(directory, dataset, tokenizer, settings)


def measure(args: argparse.Namespace, work: Path) -> dict[str, dict[str, dict]]:
    """Train and evaluate with the stages and with the baseline; their rates."""
    data = prepare(args, work)
    lengths = [len(ids) for ids in data.dataset["train"]["input_ids"]]
    print(
        f"model {args.model}, device {args.device} ({args.threads} CPU threads), max_length "
        f"{args.max_length}, train batch {args.batch_size}, eval batch {args.eval_batch_size}\n"
        f"records: {args.records.name}: {len(lengths)} training pool / "
        f"{len(data.dataset['test'])} held-out rows; mean length "
        f"{sum(lengths) / len(lengths):.0f} tokens (pool)\n"
        f"load average at start: {load_average()}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}",
        flush=True,
    )
    plain = common.PlainTraining(data.settings.model, args.seed, torch.device(args.device))
    batches = baseline_batches(plain, data, args)
    for batch in batches[: len(batches) // 2]:
        plain.step(batch)
    info = train_model(data.directory, work / "model", work / "store", data.settings, args.threads)
    for batch in batches[len(batches) // 2 :]:
        plain.step(batch)
    plain_pass = baseline_evaluation(plain, data, args)
    metrics = evaluate_model(
        work / "model", data.directory, work / "metrics.json", work / "p.parquet", data.settings
    )
    record, stage_pass = info["training_steps"], metrics["test"]["pass"]
    print(
        f"train stage: {record['steps']} steps, {record['padded_tokens'] / record['samples']:.0f} "
        f"padded tokens/sample over the epoch ({record['real_tokens'] / record['samples']:.0f} "
        f"real); measured: the {record['steps'] - args.warmup_steps} after "
        f"{args.warmup_steps} warm-up step(s); precision {info['precision']} (training), "
        f"{stage_pass['placement']} (evaluation)",
        flush=True,
    )
    return {
        "project": {
            "train": rates(common.steady_steps(record, args.warmup_steps)),
            "eval": rates(stage_pass),
        },
        "baseline": {"train": rates(plain.record()), "eval": rates(plain_pass)},
    }


def load_average() -> str:
    """The 1/5/15-minute load averages, as ``uptime`` shows them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def report(speed: dict[str, dict[str, dict]], device: str) -> None:
    """The table, the speed-ups and the note on which figure to compare."""
    print(
        f"{'setting':<9} | {'train samples/s':>15} {'(CPU time)':>10} {'padded tok/sample':>17} | "
        f"{'eval samples/s':>14} {'(CPU time)':>10} {'padded tok/sample':>17}"
    )
    for key, row in speed.items():
        train, evaluation = row["train"], row["eval"]
        print(
            f"{key:<9} | {train['wall']:>15.2f} {train['cpu']:>10.2f} {train['tokens']:>17.0f} | "
            f"{evaluation['wall']:>14.2f} {evaluation['cpu']:>10.2f} {evaluation['tokens']:>17.0f}"
        )
    ratio = {
        f"{part}_{kind}": speed["project"][part][kind] / speed["baseline"][part][kind]
        for part in ("train", "eval")
        for kind in ("wall", "cpu")
    }
    print(
        f"speed-up (project / baseline): training {ratio['train_wall']:.2f}x wall time, "
        f"{ratio['train_cpu']:.2f}x CPU time; evaluation {ratio['eval_wall']:.2f}x wall time, "
        f"{ratio['eval_cpu']:.2f}x CPU time\nload average at end: {load_average()}"
    )
    print(json.dumps({"speed": speed, "ratio": ratio}))
    if device == "cpu":
        print(
            "note: on a shared CPU, wall time includes waiting for a core; samples per CPU "
            "second is the fair comparison."
        )
    else:
        print("note: on CUDA the wall-time figures are the ones to compare.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="builtin:minilm", help="model reference or bert-base")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--records", type=Path, default=common.CS_RECORDS, help="arXiv JSON-lines file"
    )
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32, help="training batch (both)")
    parser.add_argument("--eval-batch-size", type=int, default=32)
    parser.add_argument("--train-rows", type=int, default=0, help="training pool (0: the rest)")
    parser.add_argument("--baseline-steps", type=int, default=6, help="timed baseline steps")
    parser.add_argument("--warmup-steps", type=int, default=1, help="untimed steps per setting")
    parser.add_argument(
        "--warmup-batch-size",
        type=int,
        default=0,
        help="rows per baseline warm-up step (0: 8 on CPU, where first-call costs do not grow "
        "with the batch, the training batch on CUDA)",
    )
    parser.add_argument("--eval-samples", type=int, default=96, help="held-out rows evaluated")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the project model")
    parser.add_argument("--fp32", action="store_true", help="precision fp32 for the stages")
    parser.add_argument("--seed", type=int, default=20230227)
    args = parser.parse_args()
    if min(args.batch_size, args.eval_batch_size, args.baseline_steps, args.eval_samples) < 1:
        parser.error("batch sizes, --baseline-steps and --eval-samples must be at least 1")
    if min(args.warmup_steps, args.warmup_batch_size, args.train_rows) < 0:
        parser.error("--warmup-steps, --warmup-batch-size and --train-rows must not be negative")
    args.threads = args.threads or os.cpu_count() or 1
    args.device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="arxivcat-train-speed-") as work:
        speed = measure(args, Path(work))
    report(speed, args.device)


if __name__ == "__main__":
    main()
