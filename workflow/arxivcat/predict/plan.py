"""What a prediction job will do, settled before any paper is scored.

The corpus files and their papers, the model's heads, each head's threshold (a setting, the
rule's ``threshold.json`` or the folder's own) and decision records (temperature, validation
rates), the processes and GPUs, and the chunk store's key.  Outputs are checked against the
inputs first, so that nothing is overwritten by its own predictions.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from arxivcat.model import devices
from arxivcat.model.prevalence import estimated_prevalence
from arxivcat.predict.model_folder import (
    DEFAULT_THRESHOLD,
    ModelFolderError,
    folder_digest,
    folder_heads,
    read_decisions,
    read_folder_info,
    read_threshold,
)
from arxivcat.predict.read_papers import corpus_files, papers_per_file
from arxivcat.predict.scoring import Classifier, load_classifier_folder
from arxivcat.predict.scoring_job import PredictError
from arxivcat.predict.settings import PredictSettings

logger = logging.getLogger(__name__)


@dataclass
class Plan:
    """What a prediction job is: its files, its model's heads and decisions, its processes.

    Attributes:
        files: The corpus files, in order, and ``counts`` their papers.
        heads: A multi-head model's heads; None for a 2-way classifier.
        thresholds: Each head's threshold, from ``source``.
        decisions: Each head's temperature and validation rates (:func:`read_decisions`).
        processes: Scoring processes, on ``gpus`` when there are several.
        classifier: The model, loaded here when one process scores.
        device: Where the scoring runs.
    """

    files: list[Path]
    counts: list[int]
    heads: tuple[str, ...] | None
    thresholds: tuple[float, ...]
    source: str
    decisions: list[dict[str, Any]]
    processes: int
    gpus: list[str] | None
    classifier: Classifier | None
    device: str

    @property
    def temperatures(self) -> tuple[float | None, ...]:
        """Each head's temperature (None: none)."""
        return tuple(d["temperature"] for d in self.decisions)


def plan_job(
    model_dir: Path,
    sources: list[str | Path],
    outputs: list[str | Path | None],
    settings: PredictSettings,
    threshold_path: str | Path | None,
    processes: int | None,
) -> Plan:
    """Check the outputs against the inputs, count the papers, read the decisions, load."""
    files = [path for source in sources for path in corpus_files(source)]
    _check_outputs_are_not_inputs(files, outputs)
    heads = folder_heads(model_dir)
    thresholds, source = _thresholds(model_dir, settings, threshold_path, heads)
    decisions = read_decisions(model_dir, threshold_path, heads)
    counts = papers_per_file(files)
    gpus = _gpus(settings, processes)
    count = processes or (len(gpus) if gpus else 1)
    classifier = None
    if count == 1:
        classifier = load_classifier_folder(model_dir, settings.device, settings.precision)
        device = classifier.placement.device.type
    else:
        device = "cuda" if gpus else devices.resolve_device(settings.device)
    return Plan(files, counts, heads, thresholds, source, decisions, count, gpus, classifier,
                 device)  # fmt: skip


def _thresholds(
    model_dir: Path,
    settings: PredictSettings,
    threshold_path: str | Path | None,
    heads: tuple[str, ...] | None,
) -> tuple[tuple[float, ...], str]:
    """Each head's label threshold (one for a 2-way classifier) and where they come from.

    ``settings.threshold`` wins (for every head); then ``threshold_path``; then the folder's.

    Raises:
        ModelFolderError: If a recorded threshold is missing for a head or is not a probability.
    """
    info = read_folder_info(model_dir)
    if settings.threshold is not None:
        return (settings.threshold,) * len(heads or (None,)), "setting"
    recorded, source = (
        read_threshold(threshold_path)
        if threshold_path is not None
        else (info.head_thresholds or info.threshold, info.threshold_source)
    )
    if heads is None:
        if isinstance(recorded, dict):
            raise ModelFolderError(f"{threshold_path or model_dir}: per-head thresholds for a "
                                   "2-way classifier")  # fmt: skip
        return (recorded,), source
    if not isinstance(recorded, dict):
        return (DEFAULT_THRESHOLD,) * len(heads), "default"
    missing = [head for head in heads if head not in recorded]
    if missing:
        raise ModelFolderError(f"{threshold_path or model_dir}: no threshold for head {missing[0]}")
    return tuple(recorded[head] for head in heads), source


def head_shares(plan: Plan, positives: list[int], scored: int) -> dict[str, Any]:
    """Each head's threshold, positives, the share labelled positive and the corrected share.

    The corrected share (:func:`~arxivcat.model.prevalence.estimated_prevalence`) uses
    validation's rates at the recorded threshold; with a threshold set by hand there are none.
    """
    heads, thresholds = plan.heads, plan.thresholds
    records = []
    for threshold, count, chosen in zip(thresholds, positives, plan.decisions, strict=True):
        share = count / scored if scored else None
        rates = chosen["validation_rates"] if plan.source != "setting" else {}
        tpr, fpr = rates.get("true_positive"), rates.get("false_positive")
        estimate = None
        if share is not None and tpr is not None and fpr is not None:
            estimate = estimated_prevalence(share, tpr, fpr)
        records.append(
            {
                "threshold": threshold,
                "positives": count,
                "labelled_positive_share": share,
                "estimated_prevalence": estimate,
                "temperature": chosen["temperature"],
            }
        )
    if heads is None:
        return records[0]
    keys = ("positives", "labelled_positive_share", "estimated_prevalence", "temperature")
    out = {key: {h: r[key] for h, r in zip(heads, records, strict=True)} for key in keys}
    out["thresholds"] = dict(zip(heads, thresholds, strict=True))
    return out


def fingerprint(model_dir: Path, plan: Plan, settings: PredictSettings) -> dict[str, Any]:
    """What the chunk store is keyed by: chunks of another model, input or decision are redone."""
    return {
        "model": folder_digest(model_dir),
        "inputs": [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in plan.files],
        "chunk_rows": settings.chunk_rows,
        "batch_size": settings.batch_size,
        "device": plan.device,
        "thresholds": list(plan.thresholds),
        "temperatures": list(plan.temperatures),
    }


def _check_outputs_are_not_inputs(files: list[Path], outputs: list[str | Path | None]) -> None:
    """Refuse an output that is one of the corpus files (by any name: relative, through links).

    Writing it would replace the corpus with its own predictions.

    Raises:
        PredictError: Naming the output and the input.
    """
    inputs = {path.resolve(): path for path in files}
    for output in filter(None, outputs):
        if (same := inputs.get(Path(output).resolve())) is not None:
            raise PredictError(f"{output}: is also an input ({same}); choose another output")


def _gpus(settings: PredictSettings, processes: int | None) -> list[str] | None:
    """The GPUs (``CUDA_VISIBLE_DEVICES`` entries) of a job spread over several, else None.

    The GPUs are claimed before CUDA is first asked about, so that the claim can still restrict it.
    """
    if processes is not None or settings.gpus < 2 or settings.device not in ("auto", "cuda"):
        return None
    devices.claim_gpus(settings.gpus)
    if devices.resolve_device(settings.device) != "cuda":
        return None
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    gpus = visible.split(",") if visible else [str(i) for i in range(torch.cuda.device_count())]
    if len(gpus) < settings.gpus:
        logger.warning("predict.gpus is %d but %d GPU(s) are visible", settings.gpus, len(gpus))
    return gpus[: settings.gpus] if len(gpus) > 1 else None
