"""Training and evaluation samples/s: the project's settings against a plain baseline.

Both settings train the same model (same initial weights) on the same real arXiv abstracts from
``../shared/data/arxiv``, interleaved round by round so that a noisy shared machine slows both
alike, and then evaluate the same validation rows.

- project: dynamic padding (to a multiple of 8 on CUDA), length-grouped batches
  (``EpochSeededLengthGroupedSampler``, as the train stage uses), SDPA attention, bf16 autocast on
  CUDA/TPU, fused AdamW on CUDA, TF32 matmuls, optional ``torch.compile``;
- baseline: every sequence padded to ``max_length`` (512), fp32, random batches, eager attention,
  plain AdamW: what a ``run_glue``-style run does by default.

Usage (CPU, a few minutes)::

    HF_HUB_OFFLINE=1 python benchmarks/train_speed.py
    # GPU, BERT-base-sized random model (BertConfig() defaults), max length 512:
    python benchmarks/train_speed.py --model bert-base --device cuda --batch-size 32 \
        --steps-per-round 20 --rounds 3 --eval-samples 2048
"""

from __future__ import annotations

import argparse
import json
import random
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, DataCollatorWithPadding

from arxivcat.models import load_classifier, load_tokenizer
from arxivcat.tokenization import encode_pairs
from arxivcat.train import EpochSeededLengthGroupedSampler

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arxiv"


def real_records(limit: int, seed: int) -> list[tuple[str, str]]:
    """Titles and abstracts of the real arXiv records in ../shared (whitespace collapsed)."""
    if not SHARED.is_dir():
        raise SystemExit(f"{SHARED} is absent: the benchmark reads the real arXiv records there")
    records = []
    for path in sorted(SHARED.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                paper = json.loads(line)
                title, abstract = paper.get("title") or "", paper.get("abstract") or ""
                records.append((" ".join(title.split()), " ".join(abstract.split())))
    random.Random(seed).shuffle(records)
    return records[:limit]


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

    def __init__(self, name: str, model: torch.nn.Module, device: torch.device, args) -> None:
        self.name = name
        self.model = model.to(device)
        self.device = device
        project = name == "project"
        fused = project and device.type == "cuda"
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=2e-5, fused=fused)
        use_bf16 = project and device.type == "cuda" and not args.fp32
        self.autocast = (
            torch.autocast(device_type=device.type, dtype=torch.bfloat16)
            if use_bf16
            else nullcontext()
        )
        self.precision = "bf16" if use_bf16 else "fp32"
        if project and args.compile:
            self.model = torch.compile(self.model)
        self.train_time = 0.0
        self.train_samples = 0
        self.train_tokens = 0

    def step(self, batch: dict[str, torch.Tensor]) -> None:
        """One optimizer step on ``batch``, timed to completion."""
        batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
        synchronize(self.device)
        start = time.perf_counter()
        with self.autocast:
            loss = self.model(**batch).loss
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        synchronize(self.device)
        self.train_time += time.perf_counter() - start
        self.train_samples += batch["input_ids"].shape[0]
        self.train_tokens += batch["input_ids"].numel()

    @torch.no_grad()
    def evaluate(self, batches: list[dict[str, torch.Tensor]]) -> float:
        """Samples/s of inference over ``batches``."""
        self.model.eval()
        synchronize(self.device)
        start = time.perf_counter()
        samples = 0
        for batch in batches:
            batch = {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
            with self.autocast:
                self.model(**batch).logits.argmax(-1)
            samples += batch["input_ids"].shape[0]
        synchronize(self.device)
        self.model.train()
        return samples / (time.perf_counter() - start)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def batches_of(rows: list[dict], order: list[int], size: int, collate) -> list[dict]:
    return [collate([rows[i] for i in order[s : s + size]]) for s in range(0, len(order), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default="builtin:minilm", help="model reference or bert-base")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--eval-batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved measurement rounds")
    parser.add_argument("--steps-per-round", type=int, default=3)
    parser.add_argument("--warmup-steps", type=int, default=1)
    parser.add_argument("--eval-samples", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the project model")
    parser.add_argument("--fp32", action="store_true", help="no bf16 for the project setting")
    parser.add_argument("--seed", type=int, default=20230227)
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    tokenizer = load_tokenizer("builtin:minilm" if args.model == "bert-base" else args.model)
    train_needed = args.batch_size * args.steps_per_round * args.rounds
    warmup_needed = args.batch_size * args.warmup_steps
    records = real_records(train_needed + args.eval_samples + warmup_needed, args.seed)
    if len(records) < train_needed + args.eval_samples + warmup_needed:
        raise SystemExit(f"only {len(records)} records; lower --steps-per-round or --rounds")
    encoded = encode_pairs(
        tokenizer, [t for t, _ in records], [a for _, a in records], args.max_length
    )
    rows = [{k: encoded[k][i] for k in encoded} | {"labels": i % 2} for i in range(len(records))]
    train_rows, eval_rows = (
        rows[:train_needed],
        rows[train_needed : train_needed + args.eval_samples],
    )
    lengths = [len(r["input_ids"]) for r in train_rows]

    dynamic = DataCollatorWithPadding(
        tokenizer, pad_to_multiple_of=8 if device.type == "cuda" else None
    )
    static = DataCollatorWithPadding(tokenizer, padding="max_length", max_length=args.max_length)
    # Warm-up batches come from rows of their own: every measured plan covers all train rows.
    warmup = static(rows[len(rows) - warmup_needed :])
    grouped = list(EpochSeededLengthGroupedSampler(args.batch_size, lengths, seed=args.seed))
    shuffled = random.Random(args.seed).sample(range(len(train_rows)), len(train_rows))
    plans = {
        "project": batches_of(train_rows, grouped, args.batch_size, dynamic),
        "baseline": batches_of(train_rows, shuffled, args.batch_size, static),
    }
    eval_order = list(range(len(eval_rows)))
    eval_plans = {
        "project": batches_of(eval_rows, eval_order, args.eval_batch_size, dynamic),
        "baseline": batches_of(eval_rows, eval_order, args.eval_batch_size, static),
    }
    settings = {
        "project": Setting("project", build_model(args.model, "sdpa", args.seed), device, args),
        "baseline": Setting("baseline", build_model(args.model, "eager", args.seed), device, args),
    }
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
    print(
        f"model {args.model}, device {name} ({torch.get_num_threads()} CPU threads), "
        f"max_length {args.max_length}, train batch {args.batch_size}, "
        f"{len(train_rows)} train / {len(eval_rows)} eval real abstracts, "
        f"mean length {sum(lengths) / len(lengths):.0f} tokens"
    )

    # Warm-up steps (allocator, kernels, compilation) are excluded from the timings.
    cursor = {k: 0 for k in settings}
    for setting in settings.values():
        for _ in range(args.warmup_steps):
            setting.step(warmup)
        setting.train_time = setting.train_samples = setting.train_tokens = 0
    for round_index in range(args.rounds):
        order = list(settings) if round_index % 2 == 0 else list(settings)[::-1]
        for key in order:
            for _ in range(args.steps_per_round):
                settings[key].step(plans[key][cursor[key]])
                cursor[key] += 1
    eval_speed = {}
    for key in ("baseline", "project"):
        eval_speed[key] = settings[key].evaluate(eval_plans[key])

    print(f"{'setting':<10} {'precision':<9} {'train samples/s':>16} {'padded tok/sample':>18} "
          f"{'eval samples/s':>15}")  # fmt: skip
    train_speed = {}
    for key, setting in settings.items():
        train_speed[key] = setting.train_samples / setting.train_time
        print(
            f"{key:<10} {setting.precision:<9} {train_speed[key]:>16.1f} "
            f"{setting.train_tokens / setting.train_samples:>18.0f} {eval_speed[key]:>15.1f}"
        )
    print(
        f"speed-up: training {train_speed['project'] / train_speed['baseline']:.2f}x, "
        f"evaluation {eval_speed['project'] / eval_speed['baseline']:.2f}x"
    )


if __name__ == "__main__":
    main()
