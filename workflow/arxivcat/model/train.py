"""The train stage: fine-tune a 2-way classifier on a tokenized experiment, resumably.

One entry point, :func:`train_model`, for every executor; the ``device`` setting picks it:

- CUDA: bf16 autocast, SDPA attention, TF32 matmuls, fused AdamW, dynamic padding (to a multiple
  of 8) with length-grouped batches, pinned memory and dataloader workers, optional
  ``torch.compile``.  With several visible GPUs the job re-launches itself under ``torchrun``
  (DDP); the effective batch stays ``train_batch_size`` (per-GPU batch = batch / GPUs / gradient
  accumulation steps).
- TPU: torch_xla through PJRT, static shapes (every batch padded to ``max_length``, the last
  incomplete training batch dropped), bf16.
- CPU: fp32 (or bf16 if asked), dynamic padding and length grouping; for tests and the demo.

Resume: checkpoints go to ``checkpoint_dir/run-<key>/``, outside the rule's declared output (which
Snakemake deletes before a job runs).  ``<key>`` hashes the training settings and the tokenized
data, so a run with a changed learning rate never resumes an old one.  When a complete checkpoint
exists for the key, training resumes from it and says so in the log; the store is deleted once the
final model is written.  Checkpoints are written every ``checkpoint_minutes`` (and/or every
``checkpoint_steps`` optimizer steps) and at each epoch end.

Best vs last: the last epoch's weights are kept, as in the reference; the epoch with the best
validation F1 is recorded in ``training_info.json`` and, with ``keep: best``, its weights are kept
instead.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.compute as pc
import torch
from datasets import DatasetDict
from transformers import (
    DataCollatorWithPadding,
    EvalPrediction,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainerControl,
    TrainerState,
    TrainingArguments,
)
from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

from arxivcat.config import schema_defaults
from arxivcat.errors import ArxivcatError
from arxivcat.io.checksums import file_sha256
from arxivcat.model.devices import claim_gpus, resolve_device, resolve_precision
from arxivcat.model.loading import load_classifier
from arxivcat.model.metrics import threshold_metrics
from arxivcat.model.tokenize import TOKENIZER_SUBDIR

logger = logging.getLogger(__name__)

#: The training settings' defaults, from config/schema.yaml; used when a caller (a test, a
#: benchmark) passes fewer keys than the validated configuration has.
DEFAULTS: dict[str, Any] = schema_defaults("training")
# Settings that change how often checkpoints are written or how data are loaded, not the result:
# changing them must not orphan a checkpoint.
OPERATIONAL_KEYS = frozenset({"checkpoint_minutes", "checkpoint_steps", "dataloader_workers"})
RUN_PREFIX = "run-"
BEST_SUBDIR = "best"
MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "labels")


class TrainingError(ArxivcatError, RuntimeError):
    """A training set-up problem, described in one line."""


# --------------------------------------------------------------------------- settings and keys


def complete_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Return ``settings`` with every missing key set to its default; unknown keys are errors."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise TrainingError(f"unknown training setting(s): {', '.join(unknown)}")
    merged = {**DEFAULTS, **settings}
    if merged["keep"] not in ("last", "best"):
        raise TrainingError(f"training.keep must be 'last' or 'best', not {merged['keep']!r}")
    return merged


def dataset_digest(dataset_dir: str | Path) -> str:
    """Return a sha256 over the names and contents of the tokenized dataset's files."""
    root = Path(dataset_dir)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def run_key(settings: dict[str, Any], data_digest: str) -> str:
    """Key of a training run: the settings that affect the result plus the data's digest."""
    relevant = {k: v for k, v in sorted(settings.items()) if k not in OPERATIONAL_KEYS}
    blob = json.dumps({"settings": relevant, "data": data_digest}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def last_complete_checkpoint(store: Path) -> Path | None:
    """The newest ``checkpoint-N`` in ``store`` whose trainer state (written last) is readable."""
    candidates = []
    for path in store.glob("checkpoint-*"):
        suffix = path.name.split("-", 1)[1]
        if path.is_dir() and suffix.isdigit():
            candidates.append((int(suffix), path))
    for _, path in sorted(candidates, reverse=True):
        try:
            json.loads((path / "trainer_state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("ignoring incomplete checkpoint %s (killed while saving)", path)
            continue
        return path
    return None


# --------------------------------------------------------------------------- metrics


def compute_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy, F1, precision and recall of the positive class (scikit-learn)."""
    logits = prediction.predictions
    if isinstance(logits, tuple):
        logits = logits[0]
    return threshold_metrics(np.asarray(prediction.label_ids), np.asarray(logits).argmax(axis=-1))


def mean_training_loss(log_history: list[dict[str, Any]]) -> float | None:
    """Mean training loss over all steps, from the logged per-window means.

    The Trainer's own ``train_loss`` only covers the steps since a resume; every step belongs to
    exactly one logged window here (a log entry is written with each checkpoint).
    """
    total, previous = 0.0, 0
    for entry in log_history:
        if "loss" in entry and "step" in entry:
            total += entry["loss"] * (entry["step"] - previous)
            previous = entry["step"]
    return total / previous if previous else None


def best_epoch(log_history: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """Return ``(epoch, eval_f1)`` of the evaluation with the highest F1 (first one on ties)."""
    best: tuple[float | None, float | None] = (None, None)
    for entry in log_history:
        if "eval_f1" in entry and (best[1] is None or entry["eval_f1"] > best[1]):
            best = (entry.get("epoch"), entry["eval_f1"])
    return best


# --------------------------------------------------------------------------- trainer pieces


class CheckpointPolicy(TrainerCallback):
    """Checkpoint every ``minutes`` of training and at every epoch end.

    In a multi-process run the clock of process 0 decides, broadcast every ``sync_every`` steps, so
    that every process saves at the same step.
    """

    def __init__(self, minutes: float | None, sync_every: int = 20) -> None:
        self.interval = (minutes or 0) * 60
        self.sync_every = sync_every
        self.last = time.monotonic()

    def _due(self, state: TrainerState) -> bool:
        if self.interval <= 0:
            return False
        due = time.monotonic() - self.last >= self.interval
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            if state.global_step % self.sync_every:
                return False
            flag = torch.tensor([int(due)], device=_collective_device())
            torch.distributed.broadcast(flag, src=0)
            due = bool(flag.item())
        return due

    def on_step_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Ask for a checkpoint when the interval has passed."""
        if state.global_step >= state.max_steps:
            # The Trainer's own end-of-training save would repeat the epoch-end one.
            control.should_save = False
        elif self._due(state):
            control.should_save = True
        if control.should_save:
            # The Trainer keeps its running training loss in memory only: log it with every
            # checkpoint, so a resumed run's loss log (and train_loss) covers every step.
            control.should_log = True
        return control

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Checkpoint after each epoch's evaluation, which is expensive to repeat."""
        control.should_save = True
        return control

    def on_save(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Restart the clock."""
        self.last = time.monotonic()
        logger.info("checkpoint written at step %d (epoch %.2f)", state.global_step, state.epoch)
        return control


def _collective_device() -> torch.device:
    if torch.distributed.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


class KeepBest(TrainerCallback):
    """Save the weights of the best-F1 evaluation so far into the checkpoint store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def on_evaluate(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs: Any
    ) -> TrainerControl:
        """Save the model when this evaluation's F1 beats every earlier one."""
        metrics = kwargs.get("metrics") or {}
        if "eval_f1" not in metrics or not state.is_world_process_zero:
            return control
        earlier = [e["eval_f1"] for e in state.log_history[:-1] if "eval_f1" in e]
        if earlier and metrics["eval_f1"] <= max(earlier):
            return control
        partial = self.directory.with_name(self.directory.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        kwargs["model"].save_pretrained(partial)
        (partial / "epoch.json").write_text(
            json.dumps({"epoch": state.epoch, "eval_f1": metrics["eval_f1"]}), encoding="utf-8"
        )
        shutil.rmtree(self.directory, ignore_errors=True)
        os.replace(partial, self.directory)
        logger.info("new best validation F1 %.4f at epoch %.2f", metrics["eval_f1"], state.epoch)
        return control


class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
    """Length-grouped batches whose order depends only on the seed and the epoch.

    The stock sampler draws from the global RNG, whose state at an epoch's start differs between
    an uninterrupted run and one resumed from a checkpoint; seeding by epoch makes a resumed run
    see the same batches.
    """

    def __init__(self, batch_size: int, lengths: list[int], seed: int) -> None:
        super().__init__(batch_size, lengths=lengths)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Called by the Trainer (through accelerate) at each epoch start."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        """Indices of one epoch, batched by similar length, megabatch order shuffled."""
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))


class ArxivcatTrainer(Trainer):
    """A Trainer whose length-grouped sampler uses precomputed lengths and is resumable."""

    def __init__(self, *args: Any, train_lengths: list[int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.train_lengths = train_lengths

    def _get_train_sampler(self, train_dataset: Any = None) -> Any:
        if self.args.train_sampling_strategy == "group_by_length" and self.train_lengths:
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            return EpochSeededLengthGroupedSampler(
                self.args.train_batch_size * self.args.gradient_accumulation_steps,
                lengths=self.train_lengths,
                seed=seed,
            )
        return super()._get_train_sampler(train_dataset)


# --------------------------------------------------------------------------- set-up


def world_size() -> int:
    """Processes of this training run (1 unless launched by torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def batch_layout(settings: dict[str, Any], processes: int) -> tuple[int, int]:
    """Per-device batch and accumulation steps that keep the effective batch at the setting.

    Raises:
        TrainingError: If ``train_batch_size`` is not divisible by processes x accumulation.
    """
    accumulation = int(settings["gradient_accumulation_steps"])
    total = int(settings["train_batch_size"])
    if total % (processes * accumulation):
        raise TrainingError(
            f"train_batch_size {total} is not divisible by {processes} device(s) x "
            f"{accumulation} gradient accumulation step(s)"
        )
    return total // (processes * accumulation), accumulation


def training_arguments(
    settings: dict[str, Any],
    device: str,
    precision: str,
    store: Path,
    steps_per_epoch: int,
    num_workers: int,
) -> TrainingArguments:
    """Build the Trainer's arguments for ``device`` from the experiment's settings."""
    per_device, accumulation = batch_layout(settings, world_size())
    workers = settings["dataloader_workers"]
    if workers is None:
        workers = 0 if device == "cpu" else max(0, min(num_workers - 1, 8))
    checkpoint_steps = settings["checkpoint_steps"]
    warmup_steps = math.ceil(
        settings["warmup_ratio"] * steps_per_epoch * float(settings["num_epochs"])
    )
    return TrainingArguments(
        output_dir=str(store),
        per_device_train_batch_size=per_device,
        per_device_eval_batch_size=max(1, int(settings["eval_batch_size"]) // world_size()),
        gradient_accumulation_steps=accumulation,
        learning_rate=float(settings["learning_rate"]),
        weight_decay=float(settings["weight_decay"]),
        adam_beta1=0.9,
        adam_beta2=0.999,
        adam_epsilon=1e-8,
        num_train_epochs=float(settings["num_epochs"]),
        lr_scheduler_type=settings["lr_scheduler_type"],
        warmup_steps=warmup_steps,
        seed=int(settings["seed"]),
        eval_strategy="epoch",
        logging_strategy="steps",
        logging_steps=max(1, min(int(settings["logging_steps"]), steps_per_epoch)),
        save_strategy="steps",
        save_steps=int(checkpoint_steps) if checkpoint_steps else 10**9,
        save_total_limit=1,
        report_to="none",
        disable_tqdm=True,
        bf16=precision == "bf16",
        tf32=True if device == "cuda" else None,
        optim="adamw_torch_fused" if device == "cuda" else "adamw_torch",
        use_cpu=device == "cpu",
        dataloader_num_workers=workers,
        dataloader_pin_memory=device == "cuda",
        dataloader_persistent_workers=workers > 0,
        dataloader_drop_last=device == "tpu",
        train_sampling_strategy=(
            "group_by_length" if settings["group_by_length"] and device != "tpu" else "random"
        ),
        torch_compile=bool(settings["torch_compile"]),
        ddp_find_unused_parameters=False,
    )


def data_collator(
    tokenizer: PreTrainedTokenizerBase, device: str, max_length: int
) -> DataCollatorWithPadding:
    """Static padding to ``max_length`` on TPU; dynamic padding (multiple of 8 on GPU) elsewhere."""
    if device == "tpu":
        return DataCollatorWithPadding(tokenizer, padding="max_length", max_length=max_length)
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8 if device == "cuda" else None)


def framework_versions(device: str) -> dict[str, str]:
    """Versions of the libraries that trained the model."""
    import datasets
    import tokenizers
    import transformers

    versions = {
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "datasets": datasets.__version__,
        "tokenizers": tokenizers.__version__,
        "python": platform.python_version(),
    }
    if device == "cuda" and torch.version.cuda:
        versions["cuda"] = torch.version.cuda
    if device == "tpu":
        import torch_xla

        versions["torch_xla"] = torch_xla.__version__
    return versions


def device_description(device: str) -> tuple[str, int]:
    """A readable name of the device and how many of them this run uses."""
    if device == "cuda":
        return torch.cuda.get_device_name(0), max(world_size(), 1)
    if device == "tpu":
        return f"xla:{os.environ.get('PJRT_DEVICE', 'TPU')}", world_size()
    return (
        f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        world_size(),
    )


# --------------------------------------------------------------------------- entry points


def _launch_distributed(
    dataset_dir: Path, output_dir: Path, checkpoint_dir: Path, settings: dict, num_workers: int
) -> None:
    """Re-run this training under torchrun, one process per visible GPU."""
    gpus = torch.cuda.device_count()
    settings_file = checkpoint_dir / f"settings-{os.getpid()}.json"
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps(settings), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={gpus}",
        "-m",
        "arxivcat.model.train",
        f"--dataset-dir={dataset_dir}",
        f"--output-dir={output_dir}",
        f"--checkpoint-dir={checkpoint_dir}",
        f"--settings={settings_file}",
        f"--num-workers={max(1, num_workers // gpus)}",
    ]
    logger.info("%d GPUs visible: launching DDP training: %s", gpus, " ".join(command))
    try:
        subprocess.run(command, check=True)
    except subprocess.CalledProcessError as error:
        raise TrainingError(
            f"distributed training failed with exit code {error.returncode}"
        ) from None
    finally:
        settings_file.unlink(missing_ok=True)


def train_model(
    dataset_dir: str | Path,
    output_dir: str | Path,
    checkpoint_dir: str | Path,
    settings: dict[str, Any],
    num_workers: int = 1,
) -> dict[str, Any]:
    """Fine-tune the experiment's classifier and write the model directory.

    Args:
        dataset_dir: The tokenized dataset (``DatasetDict.save_to_disk`` output with a
            ``tokenizer/`` subdirectory).
        output_dir: The model directory to write (safetensors weights, config, tokenizer,
            ``trainer_state.json``, ``train_results.json``, ``training_info.json``).
        checkpoint_dir: The experiment's checkpoint store; each run keys a subdirectory.
        settings: The experiment's training settings (see ``config/schema.yaml``).
        num_workers: CPU threads the job may use (dataloader workers, CPU training threads).

    Returns:
        The contents of ``training_info.json`` (on every process; only process 0 writes).
    """
    settings = complete_settings(settings)
    dataset_dir, output_dir, checkpoint_dir = map(Path, (dataset_dir, output_dir, checkpoint_dir))
    if settings["device"] in ("auto", "cuda") and world_size() == 1:
        claim_gpus(int(settings["gpus"]))
    device = resolve_device(settings["device"])
    precision = resolve_precision(settings["precision"], device)
    if device == "cuda" and world_size() == 1 and torch.cuda.device_count() > 1:
        _launch_distributed(dataset_dir, output_dir, checkpoint_dir, settings, num_workers)
        return json.loads((output_dir / "training_info.json").read_text(encoding="utf-8"))
    if device == "cpu":
        torch.set_num_threads(max(1, num_workers))

    started = time.monotonic()
    data_digest = dataset_digest(dataset_dir)
    key = run_key(settings, data_digest)
    store = checkpoint_dir / f"{RUN_PREFIX}{key}"
    store.mkdir(parents=True, exist_ok=True)
    (store / "run.json").write_text(
        json.dumps({"settings": settings, "dataset": str(dataset_dir), "data_sha256": data_digest}),
        encoding="utf-8",
    )
    resume = last_complete_checkpoint(store)
    if resume is not None:
        logger.warning(
            "RESUMING from checkpoint %s: the checkpoint store for these exact settings and data "
            "holds an interrupted run (delete %s to start over)",
            resume,
            store,
        )
    else:
        logger.info("no checkpoint for run %s: training from the start", key)

    dataset = DatasetDict.load_from_disk(str(dataset_dir))
    tokenizer_dir = dataset_dir / TOKENIZER_SUBDIR
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    columns = [c for c in MODEL_COLUMNS if c in dataset["train"].column_names]
    train = dataset["train"].select_columns(columns)
    validation = dataset["validation"].select_columns(columns)
    lengths = pc.list_value_length(dataset["train"].data.column("input_ids")).to_pylist()
    per_device, accumulation = batch_layout(settings, world_size())
    steps_per_epoch = max(1, len(train) // (per_device * accumulation * world_size()))

    model = load_classifier(
        settings["model"],
        seed=int(settings["seed"]),
        attn_implementation="eager" if device == "tpu" else "sdpa",
    )
    args = training_arguments(settings, device, precision, store, steps_per_epoch, num_workers)
    callbacks: list[TrainerCallback] = [CheckpointPolicy(settings["checkpoint_minutes"])]
    if settings["keep"] == "best":
        callbacks.append(KeepBest(store / BEST_SUBDIR))
    trainer = ArxivcatTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=validation,
        processing_class=tokenizer,
        data_collator=data_collator(tokenizer, device, int(settings["max_length"])),
        compute_metrics=compute_metrics,
        callbacks=callbacks,
        train_lengths=lengths,
    )
    logger.info(
        "training %s on %s (%s): %d train / %d validation rows, batch %d (%d per device x %d "
        "accumulation x %d processes), %s epochs",
        settings["model"],
        device,
        precision,
        len(train),
        len(validation),
        settings["train_batch_size"],
        per_device,
        accumulation,
        world_size(),
        settings["num_epochs"],
    )
    result = trainer.train(resume_from_checkpoint=str(resume) if resume else None)

    if resume is not None:
        mean_loss = mean_training_loss(trainer.state.log_history)
        if mean_loss is not None:
            result.metrics["train_loss"] = mean_loss
            for entry in trainer.state.log_history:
                if "train_loss" in entry:
                    entry["train_loss"] = mean_loss
    epoch, f1 = best_epoch(trainer.state.log_history)
    name, count = device_description(device)
    info: dict[str, Any] = {
        "device": name,
        "device_type": device,
        "device_count": count,
        "precision": precision,
        "distributed_type": str(trainer.accelerator.distributed_type).split(".")[-1],
        "train_samples_per_second": result.metrics.get("train_samples_per_second"),
        "train_runtime": result.metrics.get("train_runtime"),
        "train_samples": len(train),
        "resumed_from_step": int(resume.name.split("-")[1]) if resume else None,
        "best_epoch": epoch,
        "best_validation_f1": f1,
        "kept": settings["keep"],
        "framework_versions": framework_versions(device),
        "hyperparameters": {
            **settings,
            "adam_beta1": args.adam_beta1,
            "adam_beta2": args.adam_beta2,
            "adam_epsilon": args.adam_epsilon,
            "per_device_train_batch_size": per_device,
            "warmup_steps": args.warmup_steps,
        },
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    if trainer.is_world_process_zero():
        if settings["keep"] == "best" and (store / BEST_SUBDIR).is_dir():
            from safetensors.torch import load_file

            best = load_file(str(store / BEST_SUBDIR / "model.safetensors"))
            trainer.model.load_state_dict(best, strict=False)
            logger.info("keeping the best epoch (%s, F1 %.4f) instead of the last", epoch, f1)
        _write_model_dir(trainer, output_dir, result.metrics, info)
        shutil.rmtree(store, ignore_errors=True)
        _remove_stale_runs(checkpoint_dir)
        logger.info("checkpoint store %s removed after the final model was written", store)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
    return info


def _write_model_dir(
    trainer: Trainer, output_dir: Path, train_metrics: dict[str, Any], info: dict[str, Any]
) -> None:
    """Write the final model directory under a temporary name and rename it into place."""
    partial = output_dir.with_name(output_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    trainer.save_model(str(partial))
    trainer.state.save_to_json(str(partial / "trainer_state.json"))
    metrics = {**train_metrics, "train_samples": info["train_samples"]}
    (partial / "train_results.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    (partial / "training_info.json").write_text(
        json.dumps(info, indent=2, default=str), encoding="utf-8"
    )
    for leftover in ("training_args.bin",):
        (partial / leftover).unlink(missing_ok=True)
    shutil.rmtree(output_dir, ignore_errors=True)
    os.replace(partial, output_dir)
    logger.info("model written to %s", output_dir)


def _remove_stale_runs(checkpoint_dir: Path) -> None:
    """Remove other runs' stores (older settings) and the store root when it is empty."""
    for stale in checkpoint_dir.glob(f"{RUN_PREFIX}*"):
        logger.info("removing the checkpoint store of an earlier, different run: %s", stale)
        shutil.rmtree(stale, ignore_errors=True)
    with contextlib.suppress(OSError):
        checkpoint_dir.rmdir()


def main(argv: list[str] | None = None) -> None:
    """Command line used by the multi-GPU launcher (``python -m arxivcat.model.train``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dataset-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--checkpoint-dir", required=True)
    parser.add_argument("--settings", required=True, help="JSON file with the training settings")
    parser.add_argument("--num-workers", type=int, default=1)
    options = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if int(os.environ.get("RANK", "0")) == 0 else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    train_model(
        dataset_dir=options.dataset_dir,
        output_dir=options.output_dir,
        checkpoint_dir=options.checkpoint_dir,
        settings=json.loads(Path(options.settings).read_text(encoding="utf-8")),
        num_workers=options.num_workers,
    )


if __name__ == "__main__":
    main()
