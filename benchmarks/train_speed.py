"""Training and evaluation samples/s: the project's settings against a plain baseline.

Both settings train the same model (same initial weights) on the same real arXiv abstracts (by
default the 2,100 recent CS records in ``../shared/data/arxiv``), in interleaved rounds so that a
noisy shared machine slows both alike, and then evaluate the same held-out rows.

- project: what the train and eval stages do.  Training: length-grouped batches from the train
  stage's own sampler (``EpochSeededLengthGroupedSampler``, megabatches of up to 50 batches) with
  dynamic padding (to a multiple of 8 on CUDA), SDPA attention, bf16 autocast and fused AdamW on
  CUDA, TF32 matmuls, optional ``torch.compile``.  Evaluation: the eval stage's
  ``predict_split`` (rows sorted by length, dynamic padding, inference mode).
- baseline: every sequence padded to ``max_length`` (512), fp32, random batches, eager attention,
  plain AdamW, evaluation in row order: what a ``run_glue``-style run does by default.

Which batches are measured: the length-grouped plan is built over the whole training pool (as
in an epoch of a real training set: with a few dozen rows the sampler cannot group at all), and
the measured project batches are picked evenly across that epoch's batch widths, so that their
padded tokens/sample matches the epoch's (both are printed).  The baseline trains on exactly the
same rows, reshuffled into random batches.

Timing: each step is timed to completion with wall time and with process CPU time (all threads of
this process).  On a CPU shared with other jobs, wall time also counts the time spent waiting for
a core, so **CPU time per sample is the fair comparison there**; on CUDA use the wall figures
(the CPU mostly waits for the GPU).

Usage (CPU, about 4 minutes on 2 idle cores)::

    HF_HUB_OFFLINE=1 python benchmarks/train_speed.py
    # GPU, BERT-base-sized random model (BertConfig() defaults), max length 512:
    python benchmarks/train_speed.py --model bert-base --device cuda \
        --steps-per-round 20 --rounds 3 --warmup-steps 3 --eval-samples 512
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from contextlib import nullcontext
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning, so that process CPU time counts work, not waiting
# for a thread that another job's process has pre-empted.  Read by OpenMP when torch loads; the
# same for both settings.  Export OMP_WAIT_POLICY=ACTIVE to measure the spinning default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch
from datasets import Dataset
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    DataCollatorWithPadding,
)

from arxivcat.model.evaluate import _batches as eval_batches
from arxivcat.model.evaluate import predict_split
from arxivcat.model.loading import load_classifier, load_tokenizer
from arxivcat.model.tokenize import encode_pairs
from arxivcat.model.trainer_extensions import EpochSeededLengthGroupedSampler

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv"
RECORDS = SHARED / "snapshot-format-cs-2012-2024-from-api-dmarx-stars.jsonl"


def real_records(path: Path, seed: int) -> list[tuple[str, str]]:
    """Titles and abstracts (whitespace collapsed) of a JSON-lines arXiv file, shuffled."""
    if not path.is_file():
        raise SystemExit(f"{path} is absent: the benchmark reads real arXiv records there")
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            paper = json.loads(line)
        except ValueError as error:
            raise SystemExit(f"{path}:{number}: not JSON ({error})") from None
        title, abstract = paper.get("title") or "", paper.get("abstract") or ""
        if abstract.strip():
            records.append((" ".join(title.split()), " ".join(abstract.split())))
    random.Random(seed).shuffle(records)
    return records


def build_model(name: str, attention: str, seed: int) -> torch.nn.Module:
    """``bert-base``: random BertConfig() weights; anything else: a project model reference."""
    if name == "bert-base":
        torch.manual_seed(seed)
        config = BertConfig(num_labels=2)
        config._attn_implementation = attention
        return BertForSequenceClassification(config)
    return load_classifier(name, seed=seed, attn_implementation=attention)


class Setting:
    """One way of training: model, optimizer, batches and numeric precision."""

    def __init__(
        self, name: str, model: torch.nn.Module, device: torch.device, args: argparse.Namespace
    ) -> None:
        self.name = name
        self.model = model.to(device)
        self.device = device
        project = name == "project"
        fused = project and device.type == "cuda"
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=2e-5, fused=fused)
        self.dtype = torch.bfloat16 if project and device.type == "cuda" and not args.fp32 else None
        self.precision = "bf16" if self.dtype else "fp32"
        self.attention = self.model.config._attn_implementation
        if project and args.compile:
            # dynamic=True: one graph for every batch width instead of a recompile per width.
            self.model = torch.compile(self.model, dynamic=True)
        self.reset()

    def reset(self) -> None:
        """Forget the training steps timed so far (after the warm-up)."""
        self.wall = self.cpu = 0.0
        self.samples = self.tokens = 0
        self.rounds: list[tuple[int, float, float]] = []

    def autocast(self) -> torch.autocast | nullcontext:
        """bf16 autocast for the project on CUDA, nothing otherwise."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def step(self, batch: dict[str, torch.Tensor]) -> tuple[float, float]:
        """One optimizer step on ``batch``, timed to completion; returns (wall, CPU) seconds."""
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        synchronize(self.device)
        wall, cpu = time.perf_counter(), time.process_time()
        with self.autocast():
            loss = self.model(**batch).loss
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        synchronize(self.device)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.wall += wall
        self.cpu += cpu
        self.samples += batch["input_ids"].shape[0]
        self.tokens += batch["input_ids"].numel()
        return wall, cpu


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that timings cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def pick_evenly(batches: list[list[int]], widths: list[int], count: int) -> list[int]:
    """Indices of ``count`` batches spread evenly over the width distribution (cycled if short)."""
    by_width = sorted(range(len(batches)), key=lambda b: widths[b])
    if count >= len(by_width):
        return [by_width[i % len(by_width)] for i in range(count)]
    return [by_width[int((i + 0.5) * len(by_width) / count)] for i in range(count)]


def timed(function, device: torch.device) -> tuple[float, float]:
    """Wall and process CPU seconds of ``function()`` run to completion."""
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    synchronize(device)
    return time.perf_counter() - wall, time.process_time() - cpu


def load_average() -> str:
    """The 1/5/15-minute load averages, as ``uptime`` shows them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="builtin:minilm", help="model reference or bert-base")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--records", type=Path, default=RECORDS, help="arXiv JSON-lines file")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=32, help="training batch (both)")
    parser.add_argument("--eval-batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved measurement rounds")
    parser.add_argument("--steps-per-round", type=int, default=2)
    parser.add_argument("--warmup-steps", type=int, default=1, help="untimed steps per setting")
    parser.add_argument(
        "--warmup-batch-size",
        type=int,
        default=0,
        help="rows per warm-up step (0: 8 on CPU, where first-call costs do not grow with the "
        "batch, the training batch on CUDA)",
    )
    parser.add_argument("--eval-samples", type=int, default=96, help="held-out rows evaluated")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the project model")
    parser.add_argument("--fp32", action="store_true", help="no bf16 for the project setting")
    parser.add_argument("--seed", type=int, default=20230227)
    args = parser.parse_args()
    if min(args.batch_size, args.eval_batch_size, args.rounds, args.steps_per_round) < 1:
        parser.error("batch sizes, --rounds and --steps-per-round must be at least 1")
    if min(args.warmup_steps, args.warmup_batch_size, args.eval_samples) < 0:
        parser.error("--warmup-steps, --warmup-batch-size and --eval-samples must not be negative")

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is available")
        torch.set_float32_matmul_precision("high")  # TF32 matmuls, as the train stage sets
        torch.backends.cudnn.allow_tf32 = True
    multiple = 8 if device.type == "cuda" else None
    warmup_rows = args.warmup_batch_size or (args.batch_size if device.type == "cuda" else 8)
    load_at_start = load_average()

    tokenizer = load_tokenizer("builtin:minilm" if args.model == "bert-base" else args.model)
    records = real_records(args.records, args.seed)
    if len(records) < args.eval_samples + args.batch_size:
        raise SystemExit(
            f"{args.records}: only {len(records)} records with an abstract for "
            f"{args.eval_samples} eval rows and a training batch of {args.batch_size}"
        )
    encoded = encode_pairs(
        tokenizer, [t for t, _ in records], [a for _, a in records], args.max_length
    )
    rows = [{k: encoded[k][i] for k in encoded} | {"labels": i % 2} for i in range(len(records))]
    eval_rows, pool = rows[: args.eval_samples], rows[args.eval_samples :]
    lengths = [len(r["input_ids"]) for r in pool]

    # The project's epoch over the whole pool, as the train stage's sampler orders it.
    order = list(EpochSeededLengthGroupedSampler(args.batch_size, lengths, seed=args.seed))
    plan = [order[s : s + args.batch_size] for s in range(0, len(order), args.batch_size)]
    plan = [b for b in plan if len(b) == args.batch_size] or plan
    width = [max(lengths[i] for i in b) for b in plan]
    if multiple:
        width = [-(-w // multiple) * multiple for w in width]
    epoch_tokens = sum(w * len(b) for w, b in zip(width, plan, strict=True))
    epoch_samples = sum(len(b) for b in plan)
    megabatch = max(1, min(len(pool) // (args.batch_size * 4), 50)) * args.batch_size

    steps = args.rounds * args.steps_per_round
    chosen = pick_evenly(plan, width, steps)
    random.Random(args.seed).shuffle(chosen)  # a mix of widths in every round
    project_batches = [plan[b] for b in chosen]
    measured_rows = [i for b in project_batches for i in b]
    shuffled = random.Random(args.seed + 1).sample(measured_rows, len(measured_rows))
    baseline_batches = [
        shuffled[s : s + args.batch_size] for s in range(0, len(shuffled), args.batch_size)
    ]

    dynamic = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=multiple)
    static = DataCollatorWithPadding(tokenizer, padding="max_length", max_length=args.max_length)
    collate = {"project": dynamic, "baseline": static}
    batches = {"project": project_batches, "baseline": baseline_batches}

    settings = {
        "project": Setting("project", build_model(args.model, "sdpa", args.seed), device, args),
        "baseline": Setting("baseline", build_model(args.model, "eager", args.seed), device, args),
    }
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
    print(
        f"model {args.model}, device {name} ({torch.get_num_threads()} CPU threads), "
        f"max_length {args.max_length}, train batch {args.batch_size} (both settings), "
        f"eval batch {args.eval_batch_size}\n"
        f"records: {args.records.name}: {len(pool)} training pool / {len(eval_rows)} held-out "
        f"eval rows; mean length {sum(lengths) / len(lengths):.0f} tokens "
        f"(pool), {sum(len(r['input_ids']) for r in eval_rows) / max(len(eval_rows), 1):.0f} "
        f"(eval)\n"
        f"project epoch over the pool: {len(plan)} batches, megabatches of {megabatch} rows, "
        f"{epoch_tokens / epoch_samples:.0f} padded tokens/sample; measured: {steps} steps x "
        f"{args.batch_size} = {len(measured_rows)} samples per setting in {args.rounds} "
        f"interleaved rounds, after {args.warmup_steps} untimed warm-up step(s) of "
        f"{warmup_rows} rows each\n"
        f"load average at start: {load_at_start}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}",
        flush=True,
    )

    # Warm-up (allocator, kernels, compilation): rows of each setting's own first batches.
    for key, setting in settings.items():
        for w in range(args.warmup_steps):
            batch = batches[key][w % len(batches[key])][:warmup_rows]
            setting.step(collate[key]([pool[i] for i in batch]))
        setting.reset()
    cursor = dict.fromkeys(settings, 0)
    for round_index in range(args.rounds):
        keys = list(settings) if round_index % 2 == 0 else list(settings)[::-1]
        for key in keys:
            setting = settings[key]
            samples, wall, cpu = setting.samples, setting.wall, setting.cpu
            for _ in range(args.steps_per_round):
                if cursor[key] < len(batches[key]):
                    setting.step(collate[key]([pool[i] for i in batches[key][cursor[key]]]))
                    cursor[key] += 1
            setting.rounds.append(
                (setting.samples - samples, setting.wall - wall, setting.cpu - cpu)
            )
            print(
                f"  round {round_index + 1} {key:<8}: "
                f"{(setting.samples - samples) / (setting.wall - wall):7.2f} samples/s wall, "
                f"{(setting.samples - samples) / (setting.cpu - cpu):7.2f} samples/s CPU time",
                flush=True,
            )

    # Evaluation on the held-out rows: the eval stage's own code for the project.
    evaluation: dict[str, tuple[float, float, float]] = {}
    if eval_rows:
        columns = [c for c in ("input_ids", "attention_mask", "token_type_ids") if c in encoded]
        table = {c: [r[c] for r in eval_rows] for c in columns}
        table |= {
            "labels": [r["labels"] for r in eval_rows],
            "id": [str(i) for i in range(len(eval_rows))],
            "is_weak_negative": [False] * len(eval_rows),
        }
        split = Dataset.from_dict(table)
        eval_lengths = [len(r["input_ids"]) for r in eval_rows]
        project_widths = [
            max(eval_lengths[i] for i in b)
            for b in eval_batches(eval_lengths, args.eval_batch_size)
        ]
        if multiple:
            project_widths = [-(-w // multiple) * multiple for w in project_widths]
        project_tokens = sum(
            w * len(b)
            for w, b in zip(
                project_widths, eval_batches(eval_lengths, args.eval_batch_size), strict=True
            )
        )
        static_batches = [
            static(eval_rows[s : s + args.eval_batch_size])
            for s in range(0, len(eval_rows), args.eval_batch_size)
        ]

        def run_project() -> None:
            predict_split(
                settings["project"].model,
                split,
                args.eval_batch_size,
                device,
                settings["project"].dtype,
                pad_token_id=tokenizer.pad_token_id or 0,
            )

        @torch.no_grad()
        def run_baseline() -> None:
            for batch in static_batches:
                batch = {k: v.to(device) for k, v in batch.items() if k != "labels"}
                settings["baseline"].model(**batch).logits.argmax(-1).cpu()

        for setting in settings.values():
            setting.model.eval()
        if args.warmup_steps:  # inference mode is another graph for torch.compile
            predict_split(
                settings["project"].model,
                split.select(range(min(warmup_rows, len(eval_rows)))),
                args.eval_batch_size,
                device,
                settings["project"].dtype,
                pad_token_id=tokenizer.pad_token_id or 0,
            )
        wall, cpu = timed(run_baseline, device)
        evaluation["baseline"] = (wall, cpu, float(args.max_length))
        wall, cpu = timed(run_project, device)
        evaluation["project"] = (wall, cpu, project_tokens / len(eval_rows))

    print(
        f"{'setting':<9} {'precision':<9} {'attention':<9} | {'train samples/s':>15} "
        f"{'(CPU time)':>10} {'padded tok/sample':>17} | {'eval samples/s':>14} "
        f"{'(CPU time)':>10} {'padded tok/sample':>17}"
    )
    speed: dict[str, dict[str, float]] = {}
    for key, setting in settings.items():
        ewall, ecpu, etokens = evaluation.get(key, (float("nan"),) * 3)
        n = len(eval_rows)
        speed[key] = {
            "train_wall": setting.samples / setting.wall,
            "train_cpu": setting.samples / setting.cpu,
            "eval_wall": n / ewall if n else float("nan"),
            "eval_cpu": n / ecpu if n else float("nan"),
        }
        s = speed[key]
        print(
            f"{key:<9} {setting.precision:<9} {setting.attention:<9} | "
            f"{s['train_wall']:>15.2f} {s['train_cpu']:>10.2f} "
            f"{setting.tokens / setting.samples:>17.0f} | "
            f"{s['eval_wall']:>14.2f} {s['eval_cpu']:>10.2f} {etokens:>17.0f}"
        )
    ratio = {k: speed["project"][k] / speed["baseline"][k] for k in speed["project"]}
    print(
        f"speed-up (project / baseline): training {ratio['train_wall']:.2f}x wall time, "
        f"{ratio['train_cpu']:.2f}x CPU time; evaluation {ratio['eval_wall']:.2f}x wall time, "
        f"{ratio['eval_cpu']:.2f}x CPU time\n"
        f"load average at end: {load_average()}"
    )
    if device.type == "cpu":
        print(
            "note: on a shared CPU, wall time includes waiting for a core; samples per CPU "
            "second is the fair comparison."
        )
    else:
        print("note: on CUDA the wall-time figures are the ones to compare.")


if __name__ == "__main__":
    main()
