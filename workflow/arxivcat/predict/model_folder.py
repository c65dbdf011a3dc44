"""What a model folder records for prediction, and its digest.

The packaged folder (rule ``package_model``) holds ``arxivcat.json``: the decision threshold chosen
on validation, the default 0.5, the token budget and truncation used in training, and the class
names.  A plain training output has no such file; its ``training_info.json`` still gives the token
budget, and the threshold is then 0.5.
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
        threshold_source: Where it comes from (``validation F1`` or ``default``).
        max_length: Tokens per (title, abstract) pair, as in training; None when unrecorded.
    """

    threshold: float
    threshold_source: str
    max_length: int | None


def _json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelFolderError(f"{path}: unreadable ({error})") from None


def read_folder_info(model_dir: str | Path) -> FolderInfo:
    """Read what ``model_dir`` records for prediction (see the module docstring).

    Raises:
        ModelFolderError: If ``model_dir`` is not a model folder or a record is unreadable.
    """
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        raise ModelFolderError(f"{model_dir}: not a model folder (no config.json)")
    info = _json(model_dir / FOLDER_INFO)
    if info is not None:
        return FolderInfo(
            threshold=float(info["threshold"]),
            threshold_source=str(info["threshold_source"]),
            max_length=int(info["max_length"]),
        )
    training = _json(model_dir / "training_info.json") or {}
    max_length = training.get("hyperparameters", {}).get("max_length")
    return FolderInfo(
        threshold=DEFAULT_THRESHOLD,
        threshold_source="default",
        max_length=int(max_length) if max_length else None,
    )


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
