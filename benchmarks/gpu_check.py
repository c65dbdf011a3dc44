"""GPU throughput of the train, evaluate and predict stages: BERT-base, 512 tokens, real abstracts.

Run by ``benchmarks/gpu_check.sh`` (which installs the carried wheels first) on the GPU machine,
or with ``SMOKE=1`` on this CPU machine with the tiny BERT, so that the script is tested before GPU
time is spent on it.  Reads ``.gpu-data/tokenized`` and ``.gpu-data/corpus.parquet``
(``benchmarks/gpu_prepare.sh`` makes them here).

Steps, each a call of the stage's own code, in order of importance, each bounded in time:

- train: the real ``train_model`` (the Trainer path the rule runs: dynamic padding, length-grouped
  batches, bf16, SDPA, fused AdamW, dataloader workers) on the tokenized data on disk, one epoch of
  a model directory built from ``BertConfig()``, at batch 32 (as shipped) without and with
  ``torch.compile``, and at a larger batch.  A callback added to the stage's Trainer times the
  optimizer steps after a warm-up (``samples/s``) and stops the epoch after ``measure_s``; the
  epoch-end evaluation and checkpoint then run as in the stage.  ``stage samples/s`` is the
  Trainer's own figure (``training_info.json``), which also counts model loading, warm-up,
  compilation, the epoch-end evaluation and the checkpoint.
- baseline: a plain loop on the same rows in random batches, every row padded to 512, fp32 (TF32
  off), eager attention, plain AdamW (``train_speed.Setting``).  Its steps are timed on the GPU
  alone (batches prepared beforehand), which flatters it slightly.
- evaluate: the evaluation stage (``evaluate_model``) on the test split, as the rule runs it.
- predict stage: ``predict_corpus`` as the rule runs it (streaming reader, one tokenizer call per
  chunk, length-sorted dynamically padded batches, SDPA, bf16 on CUDA, chunk store, output
  parquet) on the corpus of real abstracts, at the shipped batch and a larger one, after a warm-up
  call on its first rows.  ``samples/s`` counts from the first chunk's scoring to the output
  written (the per-paper cost: reading, tokenizing, scoring, writing); ``stage samples/s`` is the
  whole call, model loading and the folder digest included.  The tokenizer may use every core, as
  in the rule's job (``TOKENIZERS_PARALLELISM`` unset there).
- predict_split: the evaluation stage's batched inference (length-sorted, dynamically padded
  batches of tokenized rows) on the train split's rows, at batch 32 and a larger one.

MFU: model FLOPs from the padded tokens each step computed: forward ``2 N s + 4 L d s^2`` per
sequence of width ``s`` (``N`` the parameters outside the embeddings, ``L`` layers, ``d`` width),
3x forward for a training step, divided by the time and the peak: the GPU's dense bf16 peak where
it is known (989 TFLOP/s for an H100/H200 SXM; ``PEAK_TFLOPS`` overrides), else the matrix-product
rate measured at the start.

The table is printed and written to ``$OUT/gpu_check.json`` (when ``$OUT`` is set) after every
step, so that a run stopped at its time limit still returns what it measured.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.metadata
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import datasets
import torch
from datasets import DatasetDict
from gpu_prepare import (
    MAX_LENGTH,
    REPO,
    SEED,
    box_packages,
    normalized,
    requirement_name,
    wheel_packages,
)
from train_speed import Setting, synchronize, timed
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    DataCollatorWithPadding,
    TrainerCallback,
)
from transformers.utils import logging as transformers_logging

import arxivcat.model.train as train_stage
from arxivcat.config import schema_defaults
from arxivcat.model.evaluate import _batches as eval_batches
from arxivcat.model.evaluate import evaluate_model, placement, predict_split
from arxivcat.model.loading import ID2LABEL, LABEL2ID, NUM_LABELS, tiny_bert_config
from arxivcat.model.settings import TrainingSettings
from arxivcat.model.tokenize import TOKENIZER_SUBDIR
from arxivcat.model.trainer_extensions import MODEL_COLUMNS

# Dense bf16 peaks (TFLOP/s), first match in the device name wins.
PEAKS = (("H100 PCIe", 756.0), ("H100", 989.4), ("H200", 989.4), ("A100", 312.0))
# The reference implementation (../shared/REFERENCE.md): cv-32 trained 3 epochs in 57,465 s.
REFERENCE = {"train_samples_per_s": 57.0, "eval_samples_per_s": 257.0, "device": "TPU"}
REFERENCE_TRAIN_S = 57_465.0
# A step still running this long after the deadline is interrupted.
GRACE_S = 45.0


@dataclass(frozen=True)
class Profile:
    """How long and how large each step is: the GPU run, or the CPU smoke run."""

    device: str
    config: Callable[[int], BertConfig]
    warmup_steps: int  # untimed optimizer steps of each training run
    measure_s: float  # timed training seconds of each run (fewer if the epoch ends first)
    baseline_warmup: int
    baseline_s: float
    large_batch: int
    predict_batch: int
    matmul_size: int
    rows: dict[str, int] | None  # rows of each split to measure on; None: all
    corpus_rows: int | None  # papers of the corpus the predict stage scores; None: all
    compile_backend: str | None  # None: the train stage's (inductor)
    # A step that would end after this many seconds (by its estimate) is skipped; None: no limit.
    deadline_s: float | None
    skip: tuple[str, ...] = ()  # steps left out


GPU = Profile(
    device="cuda",
    config=lambda vocab: BertConfig(
        vocab_size=vocab, num_labels=NUM_LABELS, id2label=ID2LABEL, label2id=LABEL2ID
    ),
    warmup_steps=10,
    measure_s=25.0,
    baseline_warmup=3,
    baseline_s=20.0,
    large_batch=128,
    predict_batch=256,
    matmul_size=8192,
    rows=None,
    corpus_rows=None,
    compile_backend=None,
    deadline_s=400.0,  # + GRACE_S at most, + about 30 s of start: under 8 minutes
)
SMOKE = Profile(
    device="cpu",
    config=tiny_bert_config,
    warmup_steps=2,
    measure_s=0.0,  # one timed step
    baseline_warmup=1,
    baseline_s=0.0,
    large_batch=64,
    predict_batch=128,
    matmul_size=1024,
    rows={"train": 256, "validation": 32, "test": 128},
    corpus_rows=256,
    # Inductor takes minutes to generate code for the CPU here: the smoke run checks the Trainer's
    # compile path with dynamo's tracing alone.
    compile_backend="eager",
    deadline_s=None,  # the smoke run is a test: every step runs
    skip=("train batch 64 compiled",),  # the path of batch 32 compiled again
)


# --------------------------------------------------------------------------- measurement pieces


class StepClock(TrainerCallback):
    """Times a Trainer's optimizer steps after a warm-up and stops it after ``measure_s``.

    The Trainer's ``training_step`` reports each batch's shape to :meth:`count` (the padded
    tokens it computes); the GPU is synchronized only at the two marks.
    """

    def __init__(self, device: str, warmup_steps: int, measure_s: float) -> None:
        self.device = torch.device(device)
        self.warmup_steps = warmup_steps
        self.measure_s = measure_s
        self.totals = [0, 0, 0]  # rows, padded tokens, sum of rows x width^2
        self.start: tuple[float, int, list[int]] | None = None
        self.end: tuple[float, int, list[int]] | None = None

    def count(self, shape: torch.Size) -> None:
        """Add one batch of ``shape`` (rows, padded width)."""
        rows, width = shape
        self.totals = [
            self.totals[0] + rows,
            self.totals[1] + rows * width,
            self.totals[2] + rows * width * width,
        ]

    def _mark(self, step: int) -> tuple[float, int, list[int]]:
        synchronize(self.device)
        return time.perf_counter(), step, list(self.totals)

    def on_step_end(self, args, state, control, **kwargs):
        """Mark the end of the warm-up, then the end of the measurement (and stop there)."""
        if self.end is not None:
            return control
        if self.start is None:
            if state.global_step >= min(self.warmup_steps, state.max_steps - 1):
                self.start = self._mark(state.global_step)
            return control
        if (
            state.global_step >= state.max_steps
            or time.perf_counter() - self.start[0] >= self.measure_s
        ):
            self.end = self._mark(state.global_step)
            control.should_training_stop = True
        return control

    def measured(self) -> dict[str, float]:
        """Steps, rows, tokens and seconds between the marks."""
        if self.start is None or self.end is None:
            raise RuntimeError("the training epoch ended before any step after the warm-up")
        (t0, s0, c0), (t1, s1, c1) = self.start, self.end
        rows, tokens, square = (b - a for a, b in zip(c0, c1, strict=True))
        return {"steps": s1 - s0, "samples": rows, "tokens": tokens, "square": square, "s": t1 - t0}


@contextlib.contextmanager
def clocked_trainer(clock: StepClock) -> Iterator[None]:
    """Make the train stage's Trainer report to ``clock`` while the block runs."""
    stage_trainer = train_stage.ArxivcatTrainer

    class ClockedTrainer(stage_trainer):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.add_callback(clock)

        def training_step(self, model, inputs, *args, **kwargs):
            clock.count(inputs["input_ids"].shape)
            return super().training_step(model, inputs, *args, **kwargs)

    train_stage.ArxivcatTrainer = ClockedTrainer
    try:
        yield
    finally:
        train_stage.ArxivcatTrainer = stage_trainer


class StepTimeout(BaseException):  # not an Exception: no library's broad except swallows it
    """A step ran past the run's deadline (plus grace)."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`StepTimeout` in the block after ``seconds`` (None: no limit)."""
    if seconds is None:
        yield
        return

    def expire(signum, frame):
        raise StepTimeout(f"stopped after {seconds:.0f} s, at the run's deadline")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, math.ceil(seconds)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def compile_backend(backend: str | None) -> Iterator[None]:
    """Make the train stage's ``torch.compile`` use ``backend`` (None: leave it) in the block."""
    stage_arguments = train_stage.training_arguments

    def arguments(*args, **kwargs):
        made = stage_arguments(*args, **kwargs)
        if made.torch_compile and backend:
            made.torch_compile_backend = backend
        return made

    train_stage.training_arguments = arguments
    try:
        yield
    finally:
        train_stage.training_arguments = stage_arguments


@contextlib.contextmanager
def plain_fp32() -> Iterator[None]:
    """Full fp32 matrix products (no TF32, which the train stage turns on) inside the block."""
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    precision = torch.get_float32_matmul_precision()
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
        torch.set_float32_matmul_precision(precision)


@dataclass
class PredictClock:
    """What the predict stage did inside :func:`clocked_predict`: timings and token counts."""

    lengths: list[list[int]]  # tokens of each scored paper, one list per chunk
    first_scoring: float | None = None  # perf_counter() at the first chunk's scoring
    scoring_s: float = 0.0  # seconds inside score_papers (tokenizing and the forward passes)


@contextlib.contextmanager
def clocked_predict(job_module, scoring_module) -> Iterator[PredictClock]:
    """Make the predict stage's scoring report to a :class:`PredictClock` while the block runs.

    The stage's own functions run; the wrappers only note when scoring starts, how long it takes
    and how many tokens each paper got (for the padded-token and MFU figures).
    """
    clock = PredictClock(lengths=[])
    score_papers, encode_pairs = job_module.score_papers, scoring_module.encode_pairs

    def encode(*args, **kwargs):
        encoded = encode_pairs(*args, **kwargs)
        clock.lengths.append([len(ids) for ids in encoded["input_ids"]])
        return encoded

    def score(*args, **kwargs):
        started = time.perf_counter()
        if clock.first_scoring is None:
            clock.first_scoring = started
        scores = score_papers(*args, **kwargs)  # ends with the scores on the CPU: synchronized
        clock.scoring_s += time.perf_counter() - started
        return scores

    job_module.score_papers, scoring_module.encode_pairs = score, encode
    try:
        yield clock
    finally:
        job_module.score_papers, scoring_module.encode_pairs = score_papers, encode_pairs


@contextlib.contextmanager
def parallel_tokenizer() -> Iterator[None]:
    """Let the fast tokenizer use every core in the block, as in a predict job of the rule."""
    saved = os.environ.pop("TOKENIZERS_PARALLELISM", None)
    try:
        yield
    finally:
        # Set again before any later fork (dataloader workers): they run without parallelism
        # and without the tokenizers library's warning about it.
        if saved is not None:
            os.environ["TOKENIZERS_PARALLELISM"] = saved


def write_corpus_slice(source: Path, rows: int, target: Path) -> Path:
    """Write the first ``rows`` papers of the parquet corpus ``source`` to ``target``."""
    import pyarrow.parquet as pq

    pq.write_table(pq.read_table(source).slice(0, rows), target)
    return target


def sorted_batch_tokens(lengths: list[int], batch_size: int, multiple: int) -> tuple[int, int]:
    """Padded tokens and sum of rows x width^2 of length-sorted batches (both predict paths)."""
    tokens = square = 0
    for batch in eval_batches(lengths, batch_size):
        width = -(-max(lengths[i] for i in batch) // multiple) * multiple
        tokens += len(batch) * width
        square += len(batch) * width * width
    return tokens, square


def matmul_tflops(device: torch.device, size: int) -> float:
    """Rate of a square matrix product (bf16 on CUDA, fp32 on the CPU), in TFLOP/s."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    reps = 10
    wall, _ = timed(lambda: [a @ b for _ in range(reps)], device)
    return 2 * size**3 * reps / wall / 1e12


def versions() -> dict[str, str]:
    """Versions of the packages the measurement depends on."""
    out = {"python": platform.python_version(), "torch": torch.__version__}
    for name in ("transformers", "datasets", "accelerate", "pyarrow", "tokenizers"):
        out[name] = importlib.metadata.version(name)
    if torch.version.cuda:
        out["cuda"] = torch.version.cuda
    return out


def uncovered_imports() -> list[str]:
    """Packages imported so far that the GPU machine lacks and no carried wheel provides.

    Only what the project's requirements bring in through packages the machine lacks counts:
    the machine's own packages bring their own requirements there (this environment may hold
    other versions, with other requirements).
    """
    box, carried = box_packages(), set(wheel_packages())
    owners = importlib.metadata.packages_distributions()
    imported = {
        normalized(dist)
        for module in list(sys.modules)
        for dist in owners.get(module.split(".")[0], [])
    }
    requires = {
        normalized(dist.metadata["Name"]): [
            requirement_name(r) for r in dist.requires or () if "extra ==" not in r
        ]
        for dist in importlib.metadata.distributions()
    }
    needed: set[str] = set()
    todo = ["arxivcat"]
    while todo:
        for name in requires.get(todo.pop(), ()):
            if name not in needed and name not in box:
                needed.add(name)
                todo.append(name)
    return sorted((needed & imported) - carried)


# --------------------------------------------------------------------------- the check


class Check:
    """The steps of one run and the table they fill."""

    def __init__(
        self, profile: Profile, data: Path, work: Path, out: Path | None, only: str = ""
    ) -> None:
        self.profile = profile
        self.only = only
        self.data = data
        self.work = work
        self.out = out
        self.started = time.monotonic()
        self.device = torch.device(profile.device)
        self.info = json.loads((data / "info.json").read_text(encoding="utf-8"))
        self.tokenized = data / "tokenized"
        self.dataset = DatasetDict.load_from_disk(str(self.tokenized))
        if profile.rows:
            self.tokenized = work / "tokenized"
            self.dataset = DatasetDict(
                {split: self.dataset[split].select(range(n)) for split, n in profile.rows.items()}
            )
            self.dataset.save_to_disk(str(self.tokenized))
            shutil.copytree(
                data / "tokenized" / TOKENIZER_SUBDIR, self.tokenized / TOKENIZER_SUBDIR
            )
            self.info["rows"] = profile.rows
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.tokenized / TOKENIZER_SUBDIR))
        self.corpus = data / "corpus.parquet"
        if profile.corpus_rows:
            self.corpus = write_corpus_slice(
                self.corpus, profile.corpus_rows, work / "corpus.parquet"
            )
            self.info["corpus_rows"] = profile.corpus_rows
        # The predict stage's warm-up call reads these (the first batches of the largest batch).
        self.warmup_corpus = write_corpus_slice(
            self.corpus, 2 * profile.predict_batch, work / "warm-up.parquet"
        )
        self.rows: list[dict] = []
        self.failed = False
        self.model_dir = work / "model"
        self.report: dict = {"reference": REFERENCE, "data": self.info, "rows": self.rows}

    # ----- set-up

    def environment(self) -> None:
        """Device, versions, peak; builds the model directory the stages load."""
        if self.device.type == "cuda":
            if not torch.cuda.is_available():
                raise SystemExit("no CUDA device visible (SMOKE=1 runs on the CPU)")
            name = torch.cuda.get_device_name(0)
            memory = torch.cuda.get_device_properties(0).total_memory / 2**30
        else:
            name, memory = f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)", 0.0
        measured = matmul_tflops(self.device, self.profile.matmul_size)
        peak, source = float(os.environ.get("PEAK_TFLOPS") or 0), "PEAK_TFLOPS"
        if not peak:
            match = next((p for key, p in PEAKS if key in name), None)
            peak, source = (match, "dense bf16 spec") if match else (measured, "measured matmul")
        config = self.profile.config(len(self.tokenizer))
        torch.manual_seed(SEED)
        model = BertForSequenceClassification(config)
        model.save_pretrained(self.model_dir)
        # The predict stage reads the tokenizer, and its token budget, from the model folder.
        self.tokenizer.model_max_length = MAX_LENGTH
        self.tokenizer.save_pretrained(self.model_dir)
        self.layers, self.hidden = config.num_hidden_layers, config.hidden_size
        self.params = model.num_parameters(exclude_embeddings=True)
        self.peak = peak
        self.report["environment"] = {
            "device": name,
            "device_memory_gib": round(memory, 1),
            "cpus": os.cpu_count(),
            **versions(),
            "matmul_tflops_measured": round(measured, 4),
            "peak_tflops": peak,
            "peak_source": source,
            "model": {
                "layers": self.layers,
                "hidden": self.hidden,
                "parameters": model.num_parameters(),
                "parameters_without_embeddings": self.params,
            },
        }
        env = self.report["environment"]
        print(
            f"device: {name} ({memory:.0f} GiB), {os.cpu_count()} CPUs; python {env['python']}, "
            f"torch {env['torch']} (CUDA {env.get('cuda', '-')}), transformers "
            f"{env['transformers']}, datasets {env['datasets']}, accelerate {env['accelerate']}, "
            f"pyarrow {env['pyarrow']}\n"
            f"model: BERT {self.layers} layers x {self.hidden}, "
            f"{model.num_parameters() / 1e6:.1f}M parameters ({self.params / 1e6:.1f}M outside "
            f"the embeddings); max length {MAX_LENGTH}\n"
            f"data: {self.info['records']} real records, {self.info['mean_tokens']:.0f} tokens "
            f"mean; rows {self.info['rows']}\n"
            f"matrix product: {measured:.3g} TFLOP/s measured; MFU against {peak:.3g} TFLOP/s "
            f"({source})",
            flush=True,
        )

    def flops(self, tokens: float, square: float, train: bool) -> float:
        """Model FLOPs of ``tokens`` padded tokens (``square``: sum of rows x width^2)."""
        forward = 2 * self.params * tokens + 4 * self.layers * self.hidden * square
        return 3 * forward if train else forward

    def add(self, name: str, measured: dict, train: bool, **extra) -> None:
        """Record one measured row: samples/s, padded tokens/sample, TFLOP/s and MFU."""
        seconds = measured["s"]
        tflops = self.flops(measured["tokens"], measured["square"], train) / seconds / 1e12
        row = {
            "step": name,
            **extra,
            "samples": measured["samples"],
            "seconds": round(seconds, 3),
            "samples_per_s": round(measured["samples"] / seconds, 1),
            "padded_tokens_per_sample": round(measured["tokens"] / measured["samples"], 1),
            "tflops": round(tflops, 4),
            "mfu": round(tflops / self.peak, 4),
        }
        self.rows.append(row)
        self.save()

    def save(self) -> None:
        """Write the report so far to ``$OUT/gpu_check.json``."""
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "gpu_check.json").write_text(
                json.dumps(self.report, indent=2) + "\n", encoding="utf-8"
            )

    # ----- steps

    def training_settings(self, **overrides) -> TrainingSettings:
        """The shipped training settings (the schema's defaults) on this run's device."""
        defaults = schema_defaults("training")
        return TrainingSettings.from_dict({**defaults, "device": self.profile.device, **overrides})

    def train(self, batch: int, compile_model: bool) -> None:
        """The train stage on the tokenized data, timed by a :class:`StepClock`."""
        if compile_model:
            torch._dynamo.reset()
        run = self.work / f"train-{batch}-{'compiled' if compile_model else 'eager'}"
        settings = self.training_settings(
            model=str(self.model_dir),
            max_length=MAX_LENGTH,
            train_batch_size=batch,
            num_epochs=1,
            torch_compile=compile_model,
        )
        clock = StepClock(self.profile.device, self.profile.warmup_steps, self.profile.measure_s)
        with clocked_trainer(clock), compile_backend(self.profile.compile_backend):
            info = train_stage.train_model(
                self.tokenized,
                run / "model",
                run / "checkpoints",
                settings,
                num_workers=os.cpu_count() or 1,
            )
        measured = clock.measured()
        self.add(
            "train",
            measured,
            train=True,
            batch=batch,
            compile=compile_model,
            precision=info["precision"],
            compile_backend=(self.profile.compile_backend or "inductor") if compile_model else None,
            steps=measured["steps"],
            stage_samples_per_s=round(info["train_samples_per_second"] or 0, 1),
            stage_wall_s=info["wall_seconds"],
        )
        shutil.rmtree(run, ignore_errors=True)

    def baseline(self, batch: int = 32) -> None:
        """Pad to 512, fp32, eager attention, plain AdamW, random batches of the same rows."""
        model = BertForSequenceClassification.from_pretrained(
            self.model_dir, attn_implementation="eager"
        )
        setting = Setting("baseline", model, self.device, SimpleNamespace(compile=False, fp32=True))
        collate = DataCollatorWithPadding(
            self.tokenizer, padding="max_length", max_length=MAX_LENGTH
        )
        train = self.dataset["train"]
        train = train.select_columns([c for c in MODEL_COLUMNS if c in train.column_names])
        order = random.Random(SEED).sample(range(len(train)), len(train))
        batches = (
            collate([train[i] for i in order[s : s + batch]]) for s in range(0, len(order), batch)
        )
        with plain_fp32():
            for _ in range(self.profile.baseline_warmup):
                setting.step(next(batches))
            setting.reset()
            for tensors in batches:
                setting.step(tensors)
                if setting.wall >= self.profile.baseline_s:
                    break
        measured = {
            "samples": setting.samples,
            "tokens": setting.tokens,
            "square": setting.tokens * MAX_LENGTH,
            "s": setting.wall,
        }
        self.add(
            "baseline train",
            measured,
            train=True,
            batch=batch,
            compile=False,
            precision="fp32 no TF32",
            note="eager attention, every row padded to 512, plain AdamW",
        )

    def evaluate(self) -> None:
        """The evaluation stage on validation and test; the test split is measured."""
        run = self.work / "evaluate"
        settings = self.training_settings()
        metrics = evaluate_model(
            self.model_dir,
            self.tokenized,
            run / "metrics.json",
            run / "predictions.parquet",
            settings,
        )
        test = self.dataset["test"]
        lengths = [len(ids) for ids in test["input_ids"]]
        multiple = 8 if self.device.type == "cuda" else 1
        tokens, square = sorted_batch_tokens(lengths, settings.eval_batch_size, multiple)
        seconds = metrics["test"]["runtime_seconds"]
        measured = {"samples": len(test), "tokens": tokens, "square": square, "s": seconds}
        self.add(
            "evaluate (test split)",
            measured,
            train=False,
            batch=settings.eval_batch_size,
            compile=False,
            precision=self.inference_precision(),
        )
        shutil.rmtree(run, ignore_errors=True)

    def inference_precision(self) -> str:
        """The evaluation stage's precision on this device."""
        _, dtype = placement(self.training_settings())
        return "bf16" if dtype else "fp32"

    def predict_split(self, batch: int) -> None:
        """The evaluation stage's batched inference (``predict_split``) on the train rows."""
        device, dtype = placement(self.training_settings())
        model = AutoModelForSequenceClassification.from_pretrained(self.model_dir)
        model.to(device).eval()
        split = self.dataset["train"]
        pad = self.tokenizer.pad_token_id or 0
        predict_split(
            model,
            split.select(range(min(2 * batch, len(split)))),
            batch,
            device,
            dtype,
            pad_token_id=pad,
            name="warm-up",
        )
        wall, _ = timed(
            lambda: predict_split(model, split, batch, device, dtype, pad, name="predict"), device
        )
        lengths = [len(ids) for ids in split["input_ids"]]
        tokens, square = sorted_batch_tokens(lengths, batch, 8 if device.type == "cuda" else 1)
        measured = {"samples": len(split), "tokens": tokens, "square": square, "s": wall}
        self.add(
            "predict_split",
            measured,
            train=False,
            batch=batch,
            compile=False,
            precision="bf16" if dtype else "fp32",
        )

    def predict_stage(self, batch: int) -> None:
        """The predict stage (``predict_corpus``, as the rule runs it) on the corpus."""
        # Imported here: a predict stage that does not import fails this step alone.
        import arxivcat.predict.predict as predict_module
        import arxivcat.predict.scoring as scoring_module
        import arxivcat.predict.scoring_job as job_module
        from arxivcat.predict.settings import PredictSettings

        run = self.work / f"predict-{batch}"
        defaults = schema_defaults("predict")
        settings = PredictSettings.from_dict(
            {**defaults, "batch_size": batch, "device": self.profile.device}
        )

        def call(corpus: Path, name: str) -> dict:
            return predict_module.predict_corpus(
                self.model_dir, [corpus], run / f"{name}.parquet", run / f"{name}.chunks", settings
            )

        with parallel_tokenizer():
            call(self.warmup_corpus, "warm-up")
            with clocked_predict(job_module, scoring_module) as clock:
                started = time.perf_counter()
                manifest = call(self.corpus, "corpus")
                ended = time.perf_counter()
        if clock.first_scoring is None:
            raise RuntimeError(f"{self.corpus}: the predict stage scored no paper")
        multiple = 8 if manifest["device"] == "cuda" else 1
        tokens = square = 0
        for lengths in clock.lengths:  # one tokenizer call, sorted and batched, per chunk
            chunk_tokens, chunk_square = sorted_batch_tokens(lengths, batch, multiple)
            tokens, square = tokens + chunk_tokens, square + chunk_square
        papers = manifest["scored"]
        seconds = ended - clock.first_scoring
        measured = {"samples": papers, "tokens": tokens, "square": square, "s": seconds}
        self.add(
            "predict_corpus",
            measured,
            train=False,
            batch=batch,
            compile=False,
            precision=manifest["precision"],
            chunk_rows=settings.chunk_rows,
            scoring_s=round(clock.scoring_s, 3),
            stage_samples_per_s=round(papers / (ended - started), 1),
            stage_wall_s=round(ended - started, 3),
        )
        shutil.rmtree(run, ignore_errors=True)

    def steps(self) -> list[tuple[str, float, Callable[[], None]]]:
        """(name, estimated GPU seconds, run) in order of importance."""
        large, larger = self.profile.large_batch, self.profile.predict_batch
        shipped = schema_defaults("predict")["batch_size"]
        return [
            ("train batch 32", 60, lambda: self.train(32, False)),
            ("baseline batch 32", 45, self.baseline),
            ("evaluate", 20, self.evaluate),
            (f"predict stage batch {shipped}", 25, lambda: self.predict_stage(shipped)),
            ("predict_split batch 32", 20, lambda: self.predict_split(32)),
            (f"predict_split batch {larger}", 20, lambda: self.predict_split(larger)),
            (f"predict stage batch {larger}", 25, lambda: self.predict_stage(larger)),
            ("train batch 32 compiled", 180, lambda: self.train(32, True)),
            (f"train batch {large}", 60, lambda: self.train(large, False)),
            (f"train batch {large} compiled", 150, lambda: self.train(large, True)),
        ]

    def run(self) -> None:
        """Every step that fits in the time left, in order."""
        self.environment()
        self.save()
        for name, estimate, step in self.steps():
            if not re.search(self.only, name):
                continue
            elapsed = time.monotonic() - self.started
            if name in self.profile.skip:
                continue
            deadline = self.profile.deadline_s
            if deadline is not None and elapsed + estimate > deadline:
                print(f"-- {name}: skipped ({elapsed:.0f} s elapsed, about {estimate} s needed)")
                self.rows.append({"step": name, "skipped": "time"})
                continue
            print(f"-- {name} ({elapsed:.0f} s elapsed)", flush=True)
            wall, cpu, count = time.monotonic(), time.process_time(), len(self.rows)
            if self.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats()
            try:
                with time_limit(None if deadline is None else deadline + GRACE_S - elapsed):
                    step()
            except torch.OutOfMemoryError as error:  # a batch too large for this device
                self.rows.append({"step": name, "skipped": f"out of memory: {error}"[:200]})
            except (Exception, StepTimeout) as error:  # a failed step loses no other numbers
                traceback.print_exc()
                self.failed = True
                self.rows.append({"step": name, "failed": f"{type(error).__name__}: {error}"[:300]})
            wall, cpu = time.monotonic() - wall, time.process_time() - cpu
            if len(self.rows) > count:
                self.rows[-1]["step_wall_s"] = round(wall, 1)
                if self.device.type == "cuda":
                    memory = torch.cuda.max_memory_allocated() / 2**30
                    self.rows[-1]["peak_memory_gib"] = round(memory, 1)
            gc.collect()
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            if len(self.rows) > count:
                print(f"   {json.dumps(self.rows[-1])}", flush=True)
            print(f"   ({wall:.1f} s, {cpu:.1f} s CPU time of this process)", flush=True)
            self.save()
        self.report["total_seconds"] = round(time.monotonic() - self.started, 1)
        self.save()

    def table(self) -> str:
        """The compact final table."""
        header = (
            f"{'step':<24} {'batch':>5} {'compile':>7} {'precision':<14} {'samples/s':>9} "
            f"{'tok/sample':>10} {'TFLOP/s':>8} {'MFU':>6} {'GiB':>5} {'stage samples/s':>15}"
        )
        lines = [header, "-" * len(header)]
        for row in self.rows:
            if "samples_per_s" not in row:
                lines.append(f"{row['step']:<24} {row.get('skipped') or row.get('failed')}")
                continue
            lines.append(
                f"{row['step']:<24} {row['batch']:>5} {'yes' if row['compile'] else 'no':>7} "
                f"{row['precision'][:14]:<14} {row['samples_per_s']:>9.1f} "
                f"{row['padded_tokens_per_sample']:>10.1f} {row['tflops']:>8.3g} "
                f"{row['mfu']:>6.1%} {row.get('peak_memory_gib', ''):>5} "
                f"{row.get('stage_samples_per_s', ''):>15}"
            )
        trained = [
            row for row in self.rows if row.get("step") == "train" and "samples_per_s" in row
        ]
        if trained:
            best = max(trained, key=lambda row: row["samples_per_s"])
            rate = best["samples_per_s"]
            hours = REFERENCE_TRAIN_S * REFERENCE["train_samples_per_s"] / rate / 3600
            lines.append(
                f"fastest training: {rate:.1f} samples/s (batch {best['batch']}, compile "
                f"{'on' if best['compile'] else 'off'}) = "
                f"{rate / REFERENCE['train_samples_per_s']:.1f}x the reference; its cv-32 training "
                f"(16 h) would take about {hours:.2f} h at this rate"
            )
        lines.append(
            f"reference ({REFERENCE['device']}): training {REFERENCE['train_samples_per_s']:.0f}, "
            f"evaluation {REFERENCE['eval_samples_per_s']:.0f} samples/s; MFU against "
            f"{self.peak:.3g} TFLOP/s ({self.report['environment']['peak_source']}); "
            f"total {self.report['total_seconds']:.0f} s"
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
    profile = SMOKE if options.smoke else GPU
    datasets.disable_progress_bars()
    transformers_logging.disable_progress_bar()
    out = Path(os.environ["OUT"]) if os.environ.get("OUT") else None
    with tempfile.TemporaryDirectory(prefix="arxivcat-gpu-check-") as work:
        check = Check(profile, options.data, Path(work), out, options.only)
        check.run()
    print(check.table())
    if options.smoke:
        missing = uncovered_imports()
        print(
            "imports the GPU machine lacks and no carried wheel provides: "
            + (", ".join(missing) if missing else "none")
        )
        check.failed |= bool(missing)
    if out is not None:
        print(f"written: {out / 'gpu_check.json'}")
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
