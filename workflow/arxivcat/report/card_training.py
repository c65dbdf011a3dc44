"""The card's "Training procedure" sections: one function per section, each ``(facts) -> str``.

Hyperparameters in transformers' wording, the per-evaluation "Training results" table, best
versus last epoch, hardware and throughput, and framework versions.
"""

from __future__ import annotations

from typing import Any

from arxivcat.report.card_facts import CardFacts
from arxivcat.report.trainer_run import markdown_table

# accelerate's DistributedType names as transformers' cards print them; single device: no line.
_DISTRIBUTED = {
    "MULTI_GPU": "multi-GPU",
    "MULTI_CPU": "multi-CPU",
    "XLA": "tpu",
    "TPU": "tpu",
    "DEEPSPEED": "deepspeed",
    "FSDP": "fsdp",
}


def hyperparameter_lines(
    settings: dict[str, Any], info: dict[str, Any], distributed_type: str | None = None
) -> list[str]:
    """The "Training hyperparameters" list, in transformers' order and wording.

    Args:
        settings: Training settings (learning_rate, train_batch_size, eval_batch_size, seed,
            num_epochs, lr_scheduler_type, warmup_ratio, weight_decay, adam_* ...).
        info: Our ``training_info.json`` (device_count, distributed_type, precision), or {}.
        distributed_type: Overrides the recorded distributed type (e.g. "tpu").
    """
    lines = [
        f"learning_rate: {settings['learning_rate']}",
        f"train_batch_size: {settings['train_batch_size']}",
        f"eval_batch_size: {settings['eval_batch_size']}",
        f"seed: {settings['seed']}",
    ]
    recorded = str(info.get("distributed_type") or "NO")
    distributed = distributed_type or _DISTRIBUTED.get(recorded.upper())
    if distributed is None and recorded.upper() != "NO":
        distributed = recorded.lower()
    if distributed:
        lines.append(f"distributed_type: {distributed}")
    devices = int(info.get("device_count") or 1)
    if devices > 1:
        lines.append(f"num_devices: {devices}")
        lines.append(f"total_train_batch_size: {settings['train_batch_size']}")
    betas = f"({settings.get('adam_beta1', 0.9)},{settings.get('adam_beta2', 0.999)})"
    epsilon = settings.get("adam_epsilon", 1e-8)
    decay = float(settings.get("weight_decay") or 0.0)
    # AdamW without weight decay is Adam, which is how the reference cards name it.
    if decay:
        lines.append(
            f"optimizer: AdamW with betas={betas}, epsilon={epsilon} and weight_decay={decay}"
        )
    else:
        lines.append(f"optimizer: Adam with betas={betas} and epsilon={epsilon}")
    lines.append(f"lr_scheduler_type: {settings.get('lr_scheduler_type', 'linear')}")
    if settings.get("warmup_ratio"):
        lines.append(f"lr_scheduler_warmup_ratio: {settings['warmup_ratio']}")
    lines.append(f"num_epochs: {settings['num_epochs']}")
    if settings.get("pos_weight") is not None:
        auto = settings["pos_weight"] == "auto"
        cap = f" (negatives/positives per head, capped at {settings.get('pos_weight_cap')})"
        lines.append(f"pos_weight: {settings['pos_weight']}{cap if auto else ''}")
    if settings.get("head_init") == "logistic":  # a resumed run has no record, but did it
        record = info.get("head_init") or {}
        lines.append(f"head_init: before training, {_head_fit(record, 'pretrained')}")
    if info.get("head_refit"):
        lines.append(f"head_refit: after training, {_head_fit(info['head_refit'], 'fine-tuned')}")
    precision = str(info.get("precision") or "")
    if precision in ("bf16", "fp16"):
        on_tpu = info.get("device_type") == "tpu" or distributed == "tpu"
        lines.append(f"mixed_precision_training: {'XLA ' + precision if on_tpu else 'Native AMP'}")
    return lines


def _head_fit(record: dict, encoder: str) -> str:
    """How a head fit (``head_init`` or ``head_refit`` of ``training_info.json``) was made."""
    rows = record.get("rows", {}).get("train", 0)
    available = record.get("train_rows_available", 0)
    sample = f" (a sample of {rows:,} of {available:,})" if rows < available else ""
    return (
        f"each head's last layer fitted as a class-weighted logistic regression on the {encoder} "
        f"encoder's pooled features of the training rows{sample}, its C chosen on validation"
    )


def section_hyperparameters(facts: CardFacts) -> str:
    """Training hyperparameters: transformers' sentence and list."""
    lines = hyperparameter_lines(facts.hyperparameters, facts.info, facts.distributed_type)
    return "The following hyperparameters were used during training:\n" + "\n".join(
        f"- {line}" for line in lines
    )


def section_training_results(facts: CardFacts) -> str:
    """Training results: the per-evaluation table as the Trainer draws it, and the loss plot."""
    table = markdown_table(facts.run.rows) or "The run logged no evaluations during training.\n"
    heads = facts.experiment.get("model_heads")
    if heads and facts.run.rows:
        table = (
            f"Validation metrics of the whole model after each epoch, pooled over its "
            f"{len(heads)} heads (micro-averaged over every paper and head):\n\n" + table
        )
    if "loss" in facts.plots:
        # Blank lines as in the reference layout (the table ends with its own newline).
        table += f"\n\n![Training and validation loss]({facts.plots['loss']})"
    return table


def section_epochs(facts: CardFacts) -> str:
    """Which evaluation had the best validation F1, and which weights the model holds."""
    evaluations = [e for e in facts.run.epoch_evaluations() if "eval_f1" in e]
    if not evaluations:
        return "The run logged no per-epoch validation F1, so best and last epochs are unknown."
    best = max(evaluations, key=lambda e: e["eval_f1"])
    last = evaluations[-1]
    kept = facts.info.get("kept")
    if kept is None:
        kept = "best" if facts.run.state.get("best_model_checkpoint") else "last"
    text = (
        f"Best validation F1: {best['eval_f1']:.4f} at epoch {best.get('epoch')} "
        f"(step {best.get('step')}); last epoch {last.get('epoch')}: {last['eval_f1']:.4f}. "
    )
    if best is last:
        text += "The last epoch is also the best; this model holds its weights."
    elif kept == "best":
        text += f"This model holds the best epoch's weights (epoch {best.get('epoch')})."
    else:
        text += (
            "This model holds the last epoch's weights, as the reference did; the best epoch's "
            f"F1 was {best['eval_f1'] - last['eval_f1']:+.4f} higher."
        )
    return text


def section_hardware(facts: CardFacts) -> str:
    """Hardware, precision and measured throughput."""
    info, results = facts.info, facts.run.results
    out = []
    if info.get("device"):
        count = int(info.get("device_count") or 1)
        out.append(
            f"Trained on {count} x {info['device']} in {info.get('precision', 'unknown')} "
            "precision."
        )
    elif facts.distributed_type:
        out.append(
            f"Trained with distributed type `{facts.distributed_type}`; the run directory does "
            "not record the device model or precision."
        )
    else:
        out.append("The run directory does not record the hardware or precision used.")
    runtime = info.get("train_runtime") or results.get("train_runtime")
    speed = info.get("train_samples_per_second") or results.get("train_samples_per_second")
    if runtime:
        took = f"{runtime:,.0f} s"
        if runtime >= 3600:
            took = f"{runtime / 3600:.2f} h ({took})"
        out.append(f"Training took {took}" + (f" at {speed:,.1f} samples/s." if speed else "."))
    else:
        out.append("Training time and throughput were not recorded.")
    if results.get("eval_samples_per_second"):
        out.append(
            f"Validation evaluation ran at {results['eval_samples_per_second']:,.1f} samples/s."
        )
    elif facts.validation.get("runtime_seconds") and facts.validation.get("samples"):
        rate = facts.validation["samples"] / max(facts.validation["runtime_seconds"], 1e-9)
        out.append(f"Validation evaluation ran at {rate:,.1f} samples/s.")
    return " ".join(out)


def section_versions(facts: CardFacts) -> str:
    """The "Framework versions" list."""
    versions = facts.info.get("framework_versions") or {}
    names = (
        ("transformers", "Transformers"),
        ("torch", "Pytorch"),
        ("datasets", "Datasets"),
        ("tokenizers", "Tokenizers"),
        ("torch_xla", "Torch XLA"),
        ("cuda", "CUDA"),
    )
    lines = [f"- {title} {versions[key]}" for key, title in names if versions.get(key)]
    if lines:
        return "\n".join(lines)
    recorded = facts.run.config.get("transformers_version")
    if recorded:
        return (
            f"- Transformers {recorded}\n\n"
            "The run directory records no other library versions (only `config.json`'s "
            "transformers version)."
        )
    return "The run directory records no library versions."
