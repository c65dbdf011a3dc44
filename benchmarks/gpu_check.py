"""GPU throughput of the train, evaluate and predict stages: BERT-base, 512 tokens, real abstracts.

Run by ``benchmarks/gpu_check.sh`` on the GPU machine, or with ``SMOKE=1`` here on the CPU (tiny
BERT, ``.gpu-data/smoke``) before GPU time is spent on it.  Each step calls a stage as its rule
does (shipped settings; this check's model, batch size, ``torch_compile``) on what
``benchmarks/gpu_prepare.sh`` wrote to ``.gpu-data``, and reads the record the stage writes:

- train: ``train_model``, one epoch, batch 32 without and with ``torch.compile``, and a larger
  batch: the step record (``training_info.json``: ``training_steps``) less the warm-up steps;
  ``stage rate`` is the Trainer's own (loading, compilation, validation, checkpoint included);
- baseline: ``common.PlainTraining`` on random batches of the same rows (padded to 512, fp32
  without TF32, eager attention, plain AdamW), timed on the device alone, which flatters it;
- evaluate: ``evaluate_model`` at the shipped batch and a larger one: the test split's pass record;
- predict: ``predict_corpus`` at the shipped batch and a larger one, on the corpus's first eighth
  (twice: the first call warms up) and on all of it; the difference of the two manifests is the
  per-paper cost (reading, tokenizing, scoring, writing) without loading the model;
- refit fits: the heads' refit solver (:func:`arxivcat.model.logistic.choose_c`, every head and
  C at once, as ``refit_heads`` runs it on a GPU) on generated features of the model's width, 150
  heads x 200,000 rows, timed on the device; a smaller problem solved on the device and on the
  CPU checks that both choose the same C and give the same probabilities.

MFU: forward FLOPs ``2 N s + 4 L d s^2`` per sequence of ``s`` padded tokens (``N`` parameters
outside the embeddings, ``L`` layers, ``d`` width; ``s^2`` from the mean width, which slightly
under-counts attention), 3x for a training step, over the time and the GPU's dense bf16 peak
(``PEAK_TFLOPS`` overrides; else the matrix-product rate measured at the start).  The report goes
to ``$OUT/gpu_check.json`` after every step, so that a run stopped at its limit keeps its rows.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import math
import os
import platform
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import common
import logistic_fit
import torch
from datasets import DatasetDict
from transformers import AutoTokenizer

from arxivcat.config import schema_defaults
from arxivcat.io.progress import quiet_progress_bars
from arxivcat.model.evaluate import evaluate_model
from arxivcat.model.logistic import choose_c
from arxivcat.model.refit_heads import C_GRID, MAX_ITER
from arxivcat.model.tokenize import TOKENIZER_SUBDIR
from arxivcat.model.train import train_model
from arxivcat.predict.predict import predict_corpus
from arxivcat.predict.settings import PredictSettings

REPO = Path(__file__).resolve().parents[1]
MAX_LENGTH, SEED = 512, 20230227
# Dense bf16 peaks (TFLOP/s), first match in the device name wins.
PEAKS = (("H100 PCIe", 756.0), ("H100", 989.4), ("H200", 989.4), ("A100", 312.0))
# The reference implementation (../shared/REFERENCE.md): cv-32 trained 3 epochs in 57,465 s.
REFERENCE = {"train_samples_per_s": 57.0, "eval_samples_per_s": 257.0, "device": "TPU"}
PACKAGES = ("torch", "transformers", "datasets", "accelerate", "pyarrow", "tokenizers")
GRACE_S = 45.0
# The table's columns: key of a row, heading.
COLUMNS = {
    "batch": "batch", "compile": "compile", "precision": "precision", "samples_per_s": "samples/s",
    "padded_tokens_per_sample": "tok/sample", "tflops": "TFLOP/s", "mfu": "MFU",
    "peak_memory_gib": "GiB", "stage_samples_per_s": "stage rate",
}  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """How long and how large each step is: the GPU run (the defaults), or the CPU smoke run."""

    device: str = "cuda"
    tiny: bool = False  # the tiny BERT, else BERT-base (``BertConfig()``)
    warmup_steps: int = 10  # training steps left out of the measurement
    baseline_s: float = 20.0  # timed baseline seconds (fewer if the batches end first; 0: one step)
    large_batch: int = 128
    predict_batch: int = 256
    fit_rows: int = 200_000  # the refit's default refit_max_rows
    fit_heads: int = 150
    # A step that would end later (by its estimate) is skipped; one still running GRACE_S after it
    # is stopped; with about 30 s of start, a run takes under 8 minutes.  None: every step runs.
    deadline_s: float | None = 400.0
    skip: tuple[str, ...] = ()  # steps left out


GPU = Profile()
SMOKE = Profile(
    "cpu", True, warmup_steps=2, baseline_s=0.0, large_batch=64, predict_batch=128,
    fit_rows=2_000, fit_heads=10, deadline_s=None,
    skip=("train batch 64 compiled",),  # the path of batch 32 compiled again
)  # fmt: skip


class StepTimeout(BaseException):  # not an Exception: no library's broad except swallows it
    """A step ran past the run's deadline (plus grace)."""


def expire(signum: int, frame: object) -> None:
    """The alarm's handler: stop the step that runs past the deadline."""
    raise StepTimeout("stopped at the run's deadline")


def matmul_tflops(device: torch.device, size: int) -> float:
    """Rate of a square matrix product (bf16 on CUDA, fp32 on the CPU), in TFLOP/s."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a, b = (torch.randn(size, size, device=device, dtype=dtype) for _ in range(2))
    for reps in (3, 10):  # a warm-up, then the timed products
        common.synchronize(device)
        started = time.perf_counter()
        for _ in range(reps):
            a @ b
        common.synchronize(device)
    return 2 * size**3 * reps / (time.perf_counter() - started) / 1e12


class Check:
    """The steps of one run and the table they fill."""

    def __init__(self, profile: Profile, data: Path, work: Path, out: Path | None) -> None:
        self.profile, self.data, self.work, self.out = profile, data, work, out
        self.started = time.monotonic()
        self.device = torch.device(profile.device)
        self.info = json.loads((data / "info.json").read_text(encoding="utf-8"))
        self.tokenized = data / "tokenized"
        self.dataset = DatasetDict.load_from_disk(str(self.tokenized))
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.tokenized / TOKENIZER_SUBDIR))
        self.model_dir, self.rows, self.failed = work / "model", [], False
        self.report: dict = {"reference": REFERENCE, "data": self.info, "rows": self.rows}

    def environment(self) -> None:
        """Device, versions, peak; the model folder the stages load."""
        if self.device.type == "cuda":
            if not torch.cuda.is_available():
                raise SystemExit("no CUDA device visible (SMOKE=1 runs on the CPU)")
            name = torch.cuda.get_device_name(0)
        else:
            name = f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)"
        measured = matmul_tflops(self.device, 8192 if self.device.type == "cuda" else 1024)
        known = next((peak for key, peak in PEAKS if key in name), None)
        self.peak = float(os.environ.get("PEAK_TFLOPS") or known or measured)
        model = common.random_bert(self.model_dir, SEED, MAX_LENGTH, self.profile.tiny)
        self.layers, self.hidden = model.config.num_hidden_layers, model.config.hidden_size
        self.params = model.num_parameters(exclude_embeddings=True)
        versions = {p: importlib.metadata.version(p) for p in PACKAGES}
        self.report["environment"] = {
            "device": name, "cpus": os.cpu_count(), **versions, "cuda": torch.version.cuda,
            "matmul_tflops_measured": round(measured, 4), "peak_tflops": self.peak,
            "parameters": model.num_parameters(), "parameters_without_embeddings": self.params,
        }  # fmt: skip
        print(f"environment: {json.dumps(self.report['environment'])}\ndata: {self.info}")

    def add(self, step: str, record: dict, train: bool, **extra) -> None:
        """One row from a record (samples or rows, seconds, padded tokens): rates and MFU."""
        samples, seconds = record.get("samples") or record["rows"], record["seconds"]
        tokens = record["padded_tokens"]
        square = tokens * tokens / samples  # sum of width^2 over rows, from the mean width
        flops = 2 * self.params * tokens + 4 * self.layers * self.hidden * square
        tflops = (3 if train else 1) * flops / seconds / 1e12
        self.rows.append({
            "step": step, **extra, "samples": samples, "seconds": round(seconds, 3),
            "samples_per_s": round(samples / seconds, 1),
            "padded_tokens_per_sample": round(tokens / samples, 1),
            "tflops": round(tflops, 4), "mfu": round(tflops / self.peak, 4),
        })  # fmt: skip

    def save(self) -> None:
        """Write the report so far to ``$OUT/gpu_check.json``."""
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            text = json.dumps(self.report, indent=2) + "\n"
            (self.out / "gpu_check.json").write_text(text, encoding="utf-8")

    def train(self, batch: int, compiled: bool) -> None:
        """The train stage on the tokenized data; its step record after the warm-up."""
        torch.compiler.reset()  # a fresh compilation per run, not a cache grown by the last ones
        run = self.work / "train"
        settings = common.training_settings(
            model=str(self.model_dir), device=self.profile.device, max_length=MAX_LENGTH,
            train_batch_size=batch, num_epochs=1, torch_compile=compiled,
        )  # fmt: skip
        info = train_model(self.tokenized, run / "model", run / "store", settings, os.cpu_count())
        steady = common.steady_steps(info["training_steps"], self.profile.warmup_steps)
        self.add(
            "train", steady, True, batch=batch, compile=compiled, precision=info["precision"],
            steps=steady["steps"],
            real_tokens_per_sample=round(steady["real_tokens"] / steady["samples"], 1),
            stage_samples_per_s=info["train_samples_per_second"], stage_wall_s=info["wall_seconds"],
        )  # fmt: skip

    def baseline(self, batch: int = 32) -> None:
        """The plain loop on random batches of the train split, every row padded to 512."""
        plain = common.PlainTraining(str(self.model_dir), SEED, self.device)
        batches = common.padded_batches(
            self.dataset["train"], self.tokenizer, batch, MAX_LENGTH, SEED
        )
        for _ in range(2):  # warm-up
            plain.step(next(batches))
        plain.reset()
        for tensors in batches:
            plain.step(tensors)
            if plain.seconds >= self.profile.baseline_s:
                break
        self.add("baseline train", plain.record(), True, batch=batch, precision="fp32 no TF32")

    def evaluate(self, batch: int) -> None:
        """The evaluate stage; the test split's pass record."""
        settings = common.training_settings(device=self.profile.device, eval_batch_size=batch)
        run = self.work / "evaluate"
        metrics = evaluate_model(
            self.model_dir, self.tokenized, run / "metrics.json", run / "p.parquet", settings
        )
        record = metrics["test"]["pass"]
        self.add("evaluate (test split)", record, False, batch=batch, precision=record["placement"])

    def predict(self, batch: int) -> None:
        """The predict stage on the corpus's first eighth and on all of it; the difference."""
        settings = PredictSettings.from_dict(
            {**schema_defaults("predict"), "batch_size": batch, "device": self.profile.device}
        )
        run = self.work / "predict"
        corpora = [self.data / name for name in ("corpus-head.parquet",) * 2 + ("corpus.parquet",)]
        _, head, whole = [  # the first call warms up
            predict_corpus(self.model_dir, [corpus], run / "out.parquet", run / "store", settings)
            for corpus in corpora
        ]
        difference = {
            "samples": whole["scored"] - head["scored"],
            "seconds": whole["seconds"] - head["seconds"],
            "padded_tokens": whole["tokens"]["padded"] - head["tokens"]["padded"],
        }
        self.add(
            "predict_corpus", difference, False, batch=batch,
            precision=f"{whole['device']} {whole['precision']}",
            stage_samples_per_s=round(whole["scored"] / whole["seconds"], 1),
            stage_wall_s=whole["seconds"],
        )  # fmt: skip

    def fits(self) -> None:
        """The refit's solver on the device at full size; a smaller problem against the CPU."""
        rows, heads = self.profile.fit_rows, self.profile.fit_heads
        train = logistic_fit.generated(rows, self.hidden, heads, seed=2)
        validation = logistic_fit.generated(rows // 2, self.hidden, heads, seed=3)
        solve = partial(choose_c, c_grid=C_GRID, max_iter=MAX_ITER)
        started = time.perf_counter()
        fit = solve(train, validation, device=self.device)
        common.synchronize(self.device)
        seconds = time.perf_counter() - started
        small = [(x[: rows // 4], y[: rows // 4, :5]) for x, y in (train, validation)]
        here, cpu = solve(*small, device=self.device), solve(*small, device="cpu")
        self.rows.append({
            "step": "refit fits", "fits": heads * len(C_GRID), "rows": rows, "width": self.hidden,
            "seconds": round(seconds, 2), "iterations_max": int(fit.iterations.max()),
            "check_same_c": float((here.c == cpu.c).mean()),
            "check_max_probability_difference": float(
                abs(here.probabilities(small[1][0]) - cpu.probabilities(small[1][0])).max()
            ),
        })  # fmt: skip

    def steps(self) -> list[tuple[str, float, Callable[[], None]]]:
        """(name, estimated GPU seconds, run) in order of importance."""
        large, larger = self.profile.large_batch, self.profile.predict_batch
        shipped = schema_defaults("predict")["batch_size"]
        evaluated = schema_defaults("training")["eval_batch_size"]
        return [
            ("train batch 32", 60, lambda: self.train(32, False)),
            ("baseline batch 32", 45, self.baseline),
            (f"evaluate batch {evaluated}", 20, lambda: self.evaluate(evaluated)),
            (f"predict batch {shipped}", 30, lambda: self.predict(shipped)),
            (f"evaluate batch {larger}", 20, lambda: self.evaluate(larger)),
            (f"predict batch {larger}", 30, lambda: self.predict(larger)),
            ("refit fits", 20, self.fits),
            ("train batch 32 compiled", 180, lambda: self.train(32, True)),
            (f"train batch {large}", 60, lambda: self.train(large, False)),
            (f"train batch {large} compiled", 150, lambda: self.train(large, True)),
        ]

    def run(self, only: str) -> None:
        """Every step that ``only`` finds and that fits in the time left, in order."""
        self.environment()
        for name, estimate, step in self.steps():
            elapsed, deadline = time.monotonic() - self.started, self.profile.deadline_s
            if not re.search(only, name) or name in self.profile.skip:
                continue
            if deadline is not None and elapsed + estimate > deadline:
                self.rows.append({"step": name, "skipped": f"time ({elapsed:.0f} s elapsed)"})
                continue
            print(f"-- {name} ({elapsed:.0f} s elapsed)", flush=True)
            wall, count, cuda = time.monotonic(), len(self.rows), self.device.type == "cuda"
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            if deadline is not None:
                signal.alarm(max(1, math.ceil(deadline + GRACE_S - elapsed)))
            try:
                step()
            except torch.OutOfMemoryError as error:  # a batch too large for this device
                self.rows.append({"step": name, "skipped": f"out of memory: {error}"[:200]})
            except (Exception, StepTimeout) as error:  # a failed step loses no other numbers
                traceback.print_exc()
                self.failed = True
                self.rows.append({"step": name, "failed": f"{type(error).__name__}: {error}"[:300]})
            signal.alarm(0)
            if len(self.rows) > count:
                self.rows[-1]["step_wall_s"] = round(time.monotonic() - wall, 1)
                if cuda:
                    self.rows[-1]["peak_memory_gib"] = round(
                        torch.cuda.max_memory_allocated() / 2**30, 1
                    )
                print(f"   {json.dumps(self.rows[-1])}", flush=True)
            gc.collect()
            if cuda:
                torch.cuda.empty_cache()
            self.save()
        self.report["total_seconds"] = round(time.monotonic() - self.started, 1)
        self.save()

    def table(self) -> str:
        """The final table, and the fastest training against the reference."""
        lines = [f"{'step':<24}" + "".join(f"{name:>14}" for name in COLUMNS.values())]
        for row in self.rows:
            if "fits" in row:
                lines.append(
                    f"{row['step']:<24} {row['fits']} fits on {row['rows']:,} rows x "
                    f"{row['width']}: {row['seconds']} s; against the CPU: same C "
                    f"{row['check_same_c']:.0%}, probabilities within "
                    f"{row['check_max_probability_difference']:.1e}"
                )
                continue
            if "samples_per_s" not in row:
                lines.append(f"{row['step']:<24} {row.get('skipped') or row.get('failed')}")
                continue
            cells = (str(row.get(key, "")) for key in COLUMNS)
            lines.append(f"{row['step']:<24}" + "".join(f"{cell[:13]:>14}" for cell in cells))
        trained = [row for row in self.rows if row["step"] == "train" and "samples_per_s" in row]
        if trained:
            best = max(trained, key=lambda row: row["samples_per_s"])
            times = best["samples_per_s"] / REFERENCE["train_samples_per_s"]
            lines.append(
                f"fastest training: {best['samples_per_s']:.1f} samples/s (batch {best['batch']}, "
                f"compile {best['compile']}) = {times:.1f}x the reference; its cv-32 training "
                f"(57,465 s) would take about {57_465 / times / 3600:.2f} h"
            )
        lines.append(
            f"reference ({REFERENCE['device']}): training {REFERENCE['train_samples_per_s']:.0f}, "
            f"evaluation {REFERENCE['eval_samples_per_s']:.0f} samples/s; MFU against "
            f"{self.peak:.3g} TFLOP/s; total {self.report['total_seconds']:.0f} s"
        )
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=REPO / ".gpu-data")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny BERT, short steps")
    parser.add_argument("--only", default="", help="run only the steps this regex finds")
    options = parser.parse_args()
    if not (options.data / "tokenized").is_dir():
        raise SystemExit(f"{options.data}/tokenized is absent: run bash benchmarks/gpu_prepare.sh")
    quiet_progress_bars()
    out = Path(os.environ["OUT"]) if os.environ.get("OUT") else None
    signal.signal(signal.SIGALRM, expire)
    with tempfile.TemporaryDirectory(prefix="arxivcat-gpu-check-") as work:
        data = options.data / "smoke" if options.smoke else options.data
        check = Check(SMOKE if options.smoke else GPU, data, Path(work), out)
        check.run(options.only)
    print(check.table())
    if out is not None:
        print(f"written: {out / 'gpu_check.json'}")
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
