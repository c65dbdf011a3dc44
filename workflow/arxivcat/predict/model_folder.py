"""What a model folder records for prediction, and its digest.

The packaged folder (rule ``package_model``) holds ``arxivcat.json``: the decision threshold chosen
on validation, the default 0.5, the token budget and truncation used in training, and the class
names.  A plain training output has no such file; its ``training_info.json`` still gives the token
budget, and the threshold is then 0.5.  Before anything is loaded, the folder's ``config.json``,
its safetensors weights and these records are checked, so that a damaged or foreign folder fails in
one line naming the file rather than in a traceback from deep inside ``transformers``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from arxivcat.errors import ArxivcatError

FOLDER_INFO = "arxivcat.json"
DEFAULT_THRESHOLD = 0.5
TRUNCATION = "only_second"
# Files that do not change a score: the card and its plots.
_NOT_SCORED = ("README.md", ".png")


class ModelFolderError(ArxivcatError, ValueError):
    """A model folder that cannot be used, described in one line."""


@dataclass(frozen=True)
class FolderInfo:
    """The prediction facts of a model folder.

    Attributes:
        threshold: The recorded decision threshold (0.5 when none is recorded).
        threshold_source: Where it comes from (``validation F1``, ``default: no signal`` or
            ``default``).
        max_length: Tokens per (title, abstract) pair, as in training; None when unrecorded.
        head_thresholds: A multi-head model's thresholds, by head (``threshold`` is then 0.5).
    """

    threshold: float
    threshold_source: str
    max_length: int | None
    head_thresholds: dict[str, float] | None = None


def _json(path: Path) -> dict[str, Any] | None:
    """The JSON object of ``path``, None when there is no such file."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFolderError(f"{path}: not JSON ({error})") from None
    except OSError as error:
        raise ModelFolderError(f"{path}: unreadable ({error.strerror or error})") from None
    if not isinstance(record, dict):
        raise ModelFolderError(f"{path}: not a JSON object")
    return record


def check_threshold(value: Any, where: str | Path) -> float:
    """Return ``value`` as a decision threshold, refusing anything but a probability in (0, 1).

    A threshold at or beyond 0 or 1 (or NaN, above which nothing is) gives every paper the same
    label.  Thresholds read from files (``arxivcat.json``, ``threshold.json``) come through here;
    the ``predict.threshold`` setting meets the same bounds in the config schema.

    Raises:
        ModelFolderError: Naming ``where``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ModelFolderError(f"{where}: threshold: {value!r} is not a number")
    if not 0 < value < 1:  # NaN fails this too
        raise ModelFolderError(
            f"{where}: threshold: {value!r} is not a probability strictly between 0 and 1"
        )
    return float(value)


def threshold_source(record: dict[str, Any]) -> str:
    """Where a ``threshold.json`` record's threshold comes from (without signal, the default)."""
    return "validation F1" if record.get("signal", True) else "default: no signal"


def read_threshold(path: str | Path) -> tuple[float | dict[str, float], str]:
    """The threshold of a ``threshold.json`` (rule ``choose_threshold``), checked, and its source.

    A multi-head model's file gives one threshold per head (a mapping).

    Raises:
        ModelFolderError: If the file is missing, malformed or a threshold is not a probability.
    """
    path = Path(path)
    record = _json(path)
    if record is None:
        raise ModelFolderError(f"{path}: no such file")
    if isinstance(record.get("heads"), dict):
        heads = record["heads"]
        thresholds = {h: check_threshold(r.get("threshold"), f"{path} head {h}")
                      for h, r in heads.items()}  # fmt: skip
        missing = [h for h, r in heads.items() if not r.get("signal", True)]
        source = "validation F1 per head"
        if missing:
            source += f" (no signal: {', '.join(missing)})"
        return thresholds, source
    if "threshold" not in record:
        raise ModelFolderError(f"{path}: no threshold")
    return check_threshold(record["threshold"], path), threshold_source(record)


def _tokens(value: Any, where: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ModelFolderError(f"{where}: max_length: {value!r} is not a whole number of tokens")
    return value


def check_model_files(model_dir: Path) -> None:
    """Check, without loading it, that ``model_dir`` holds a text classifier's config and weights.

    Only safetensors weights are read: pickled ``pytorch_model.bin`` files can run code when
    loaded, and ``transformers`` refuses them with the torch versions pinned here.

    Raises:
        ModelFolderError: Naming the file that is missing, malformed or incomplete.
    """
    from safetensors import SafetensorError, safe_open
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES as CLASSIFIERS,
    )

    config = _json(model_dir / "config.json")
    if config is None:
        raise ModelFolderError(f"{model_dir}: not a model folder (no config.json)")
    model_type = config.get("model_type")
    if model_type not in CLASSIFIERS:
        raise ModelFolderError(
            f"{model_dir / 'config.json'}: a {model_type!r} model is not a text classifier"
        )
    index = _json(model_dir / "model.safetensors.index.json")
    if index is not None:
        shards = sorted(set(dict(index.get("weight_map") or {}).values()))
    elif (model_dir / "model.safetensors").is_file():
        shards = ["model.safetensors"]
    else:
        pickled = sorted(p.name for p in model_dir.glob("*.bin"))
        why = f" ({', '.join(pickled)}: pickled weights, which are not loaded)" if pickled else ""
        raise ModelFolderError(f"{model_dir}: no model.safetensors{why}")
    for shard in shards:
        try:
            with safe_open(model_dir / shard, framework="np"):
                pass
        except (OSError, SafetensorError) as error:
            raise ModelFolderError(
                f"{model_dir / shard}: incomplete or corrupt weights ({error})"
            ) from None


def read_folder_info(model_dir: str | Path) -> FolderInfo:
    """Check the folder's files (:func:`check_model_files`) and read what it records.

    Raises:
        ModelFolderError: If ``model_dir`` is not a usable model folder, or a record is malformed
            (not JSON, a key missing, a threshold that is not a probability), naming the file.
    """
    model_dir = Path(model_dir)
    check_model_files(model_dir)
    path = model_dir / FOLDER_INFO
    info = _json(path)
    if info is not None:
        thresholds = info.get("thresholds")
        required = (
            "threshold_source",
            "max_length",
            "threshold" if thresholds is None else "heads",
        )
        missing = [key for key in required if key not in info]
        if missing:
            raise ModelFolderError(f"{path}: no {missing[0]}")
        if thresholds is not None and not isinstance(thresholds, dict):
            raise ModelFolderError(f"{path}: thresholds: not a mapping of heads to thresholds")
        return FolderInfo(
            threshold=check_threshold(info.get("threshold", DEFAULT_THRESHOLD), path),
            threshold_source=str(info["threshold_source"]),
            max_length=_tokens(info["max_length"], path),
            head_thresholds=None
            if thresholds is None
            else {h: check_threshold(t, f"{path} head {h}") for h, t in thresholds.items()},
        )
    path = model_dir / "training_info.json"
    hyperparameters = (_json(path) or {}).get("hyperparameters")
    max_length = hyperparameters.get("max_length") if isinstance(hyperparameters, dict) else None
    return FolderInfo(
        threshold=DEFAULT_THRESHOLD,
        threshold_source="default",
        max_length=None if max_length is None else _tokens(max_length, path),
    )


def decision(report: dict[str, Any]) -> dict[str, Any]:
    """What predict needs of one threshold report (a head's, or a binary model's) but the threshold.

    Its temperature, and validation's true- and false-positive rates at the threshold (None where
    not recorded), for the corrected share of positives.
    """
    rates = (report.get("validation") or {}).get("at_threshold") or {}
    true_positive, false_positive = rates.get("recall"), rates.get("false_positive_rate")
    return {
        "temperature": report.get("temperature"),
        "validation_rates": {"true_positive": true_positive, "false_positive": false_positive},
    }


def read_decisions(
    model_dir: str | Path, threshold_path: str | Path | None, heads: tuple[str, ...] | None
) -> list[dict[str, Any]]:
    """Each head's :func:`decision` (one for a 2-way classifier).

    From ``threshold_path`` when given, else from the folder's ``arxivcat.json`` (where none is
    recorded: no temperature, no rates).
    """
    names = heads or (None,)
    if threshold_path is not None:
        record = _json(Path(threshold_path)) or {}
        reports = record.get("heads") or {None: record}
        return [decision(reports.get(head) or {}) for head in names]
    info = _json(Path(model_dir) / FOLDER_INFO) or {}
    entries = info.get("heads") or {None: info}
    empty = {"temperature": None, "validation_rates": {}}
    return [{**empty, **{k: v for k, v in (entries.get(head) or {}).items() if k in empty}}
            for head in names]  # fmt: skip


def folder_heads(model_dir: str | Path) -> tuple[str, ...] | None:
    """A multi-head model folder's heads (``config.json``), None for a 2-way classifier."""
    config = _json(Path(model_dir) / "config.json") or {}
    if config.get("problem_type") != "multi_label_classification":
        return None
    labels = config.get("id2label") or {}
    return tuple(str(labels[key]) for key in sorted(labels, key=int))


def folder_digest(model_dir: str | Path) -> str:
    """A sha256 over the files of ``model_dir`` that decide its scores (not the card or plots).

    A prediction job's chunk store is keyed by it: chunks of another model are never reused.
    """
    model_dir = Path(model_dir)
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        if path.name == _NOT_SCORED[0] or path.suffix == _NOT_SCORED[1]:
            continue
        digest.update(path.relative_to(model_dir).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
