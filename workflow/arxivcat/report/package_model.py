"""The Hub-ready model folder of an experiment (rule ``package_model``).

The train stage's ``results/<experiment>/model/`` is another rule's ``directory()`` output, which no
later rule may write into; this rule copies it to ``results/<experiment>/hub/`` and completes it:

- ``config.json``: ``id2label``/``label2id`` name the classes after the experiment's labels
  (``not cs.CV`` / ``cs.CV``) instead of negative/positive;
- the tokenizer records the training truncation: ``model_max_length`` is the token budget and
  ``tokenizer.json`` truncates from the abstract (``only_second``) to it;
- ``arxivcat.json``: the validation-F1 threshold (rule ``choose_threshold``), the default 0.5, the
  budget and truncation;
- ``README.md``: the experiment's ``card.md`` as it is (the workflow's card carries the Hub
  metadata, "How to use" and the threshold: :mod:`arxivcat.report.hub_card`), and the plots it
  links beside it.

The predict rule reads the train stage's folder and ``threshold.json``, not this one, so a new
card (which re-packages) reruns no prediction.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

from arxivcat.model.loading import load_tokenizer
from arxivcat.predict.model_folder import (
    DEFAULT_THRESHOLD,
    FOLDER_INFO,
    TRUNCATION,
    decision,
    threshold_source,
)
from arxivcat.report.hub_card import class_names

logger = logging.getLogger(__name__)


def _label_config(path: Path, names: tuple[str, str]) -> None:
    config = json.loads(path.read_text(encoding="utf-8"))
    config["id2label"] = {"0": names[0], "1": names[1]}
    config["label2id"] = {names[0]: 0, names[1]: 1}
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _record_truncation(folder: Path, max_length: int) -> None:
    tokenizer = load_tokenizer(str(folder))
    tokenizer.model_max_length = max_length
    tokenizer.backend_tokenizer.enable_truncation(max_length=max_length, strategy=TRUNCATION)
    tokenizer.save_pretrained(str(folder))


def package_model(
    model_dir: str | Path,
    card_path: str | Path,
    plot_paths: list[str | Path],
    threshold_path: str | Path,
    output_dir: str | Path,
    experiment: dict[str, Any],
) -> dict[str, Any]:
    """Write the Hub-ready folder of one experiment.

    Args:
        model_dir: The train stage's model directory.
        card_path: The experiment's ``card.md``, which becomes ``README.md``.
        plot_paths: The plots the card links (copied beside it under their names).
        threshold_path: The experiment's ``threshold.json`` (rule ``choose_threshold``).
        output_dir: The folder to write.
        experiment: ``name``, ``labels``, ``dataset_config``, ``max_length`` and (multi-head)
            ``heads`` of the experiment.

    Returns:
        The contents of ``arxivcat.json``.
    """
    output_dir = Path(output_dir)
    partial = output_dir.with_name(output_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(model_dir, partial)
    max_length = int(experiment["max_length"])
    _record_truncation(partial, max_length)
    threshold = json.loads(Path(threshold_path).read_text(encoding="utf-8"))
    if "heads" in threshold:
        info = _multi_head_info(threshold, experiment)
        names = tuple(threshold["heads"])
    else:
        names = class_names(list(experiment["labels"]), experiment["dataset_config"])
        _label_config(partial / "config.json", names)
        info = {
            "labels": {"0": names[0], "1": names[1]},
            "positive_categories": list(experiment["labels"]),
            "threshold": threshold["threshold"],
            "threshold_source": threshold_source(threshold),
            **decision(threshold),
        }
    info.update(
        default_threshold=DEFAULT_THRESHOLD,
        max_length=max_length,
        truncation=TRUNCATION,
        metrics={k: v for k, v in threshold.items() if k not in ("threshold", "heads")},
    )
    (partial / FOLDER_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")

    for plot in map(Path, plot_paths):
        shutil.copy2(plot, partial / plot.name)
    shutil.copy2(card_path, partial / "README.md")
    shutil.rmtree(output_dir, ignore_errors=True)
    os.replace(partial, output_dir)
    logger.info(
        "model folder %s: classes %s (%s), %d tokens (%s)",
        output_dir, "/".join(names), info["threshold_source"], max_length, TRUNCATION,
    )  # fmt: skip
    return info


def _multi_head_info(threshold: dict[str, Any], experiment: dict[str, Any]) -> dict[str, Any]:
    """``arxivcat.json`` of a multi-head model: each head's categories and threshold.

    ``config.json`` already names each head (``id2label``) and says ``multi_label_classification``
    (one sigmoid each), as training wrote it.
    """
    heads = threshold["heads"]
    configured = experiment.get("heads") if isinstance(experiment.get("heads"), dict) else {}
    return {
        "heads": {
            head: {
                "positive_categories": list(configured.get(head, [head])),
                "threshold": report["threshold"],
                "threshold_source": threshold_source(report),
                **decision(report),
            }
            for head, report in heads.items()
        },
        "thresholds": {head: report["threshold"] for head, report in heads.items()},
        "threshold_source": "validation F1 per head",
    }
