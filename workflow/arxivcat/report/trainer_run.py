"""Reading a Hugging Face Trainer output directory: the facts a model card reports.

A Trainer run directory (ours, or one made elsewhere such as the reference's ``models/<name>/``)
holds ``trainer_state.json`` (``log_history``: train ``loss`` every few steps, ``eval_*`` at each
evaluation), ``all_results.json``/``eval_results.json``/``train_results.json`` (the final numbers)
and ``config.json`` (the base model in ``_name_or_path``).  The "Training results" table is built
as transformers' Trainer builds it: one row per evaluation, with the last training loss logged
before it ("No log" when none was).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arxivcat.errors import ArxivcatError

# The per-evaluation metrics of the table, in the reference's column order.
TABLE_METRICS = ("accuracy", "f1", "precision", "recall")
_EVAL_BOOKKEEPING = (
    "eval_runtime",
    "eval_samples_per_second",
    "eval_steps_per_second",
    "eval_jit_compilation_time",
    "eval_samples",
)


class RunDirError(ArxivcatError, ValueError):
    """A missing or malformed file of a run directory, described in one line."""


def read_json(path: str | Path, required: bool = True) -> dict[str, Any] | None:
    """Read a JSON object from ``path``.

    Args:
        path: The file.
        required: Whether a missing file is an error (else None is returned).

    Raises:
        RunDirError: If the file is required and missing, or is not a JSON object (the message
            names the file, and the line of a syntax error).
    """
    path = Path(path)
    if not path.is_file():
        if required:
            raise RunDirError(f"{path}: file not found")
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise RunDirError(f"{path}:{error.lineno}: malformed JSON: {error.msg}") from None
    if not isinstance(value, dict):
        raise RunDirError(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


def maybe_round(value: Any, decimals: int = 4) -> str:
    """Format a table value as transformers does: floats with more decimals are rounded."""
    text = str(value)
    if isinstance(value, float) and "." in text and len(text.split(".")[1]) > decimals:
        return f"{value:.{decimals}f}"
    return text


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Render ``rows`` as transformers' centred Markdown table (column widths padded)."""
    if not rows:
        return ""
    keys = list(rows[0])
    widths = {key: len(key) for key in keys}
    for row in rows:
        for key in keys:
            widths[key] = max(widths[key], len(maybe_round(row[key])))

    def line(values: list[str]) -> str:
        cells = (
            f"| {v}" + " " * (widths[k] - len(v) + 1) for k, v in zip(keys, values, strict=True)
        )
        return "".join(cells) + "|\n"

    table = line(keys)
    table += "".join("|:" + "-" * widths[k] + ":" for k in keys) + "|\n"
    for row in rows:
        table += line([maybe_round(row[k]) for k in keys])
    return table


def training_results(log_history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The "Training results" rows: one per evaluation before the end of training.

    Raises:
        RunDirError: If an entry is not an object.
    """
    rows: list[dict[str, Any]] = []
    training_loss: Any = "No log"
    for entry in log_history:
        if not isinstance(entry, dict):
            raise RunDirError(f"log_history entry is not an object: {entry!r}"[:200])
        if "train_runtime" in entry:
            break
        if "loss" in entry:
            training_loss = entry["loss"]
        if "eval_loss" in entry:
            row = {
                "Training Loss": training_loss,
                "Epoch": entry.get("epoch"),
                "Step": entry.get("step"),
                "Validation Loss": entry["eval_loss"],
            }
            for metric in TABLE_METRICS:
                row[metric_title(metric)] = entry.get(f"eval_{metric}", "n/a")
            rows.append(row)
    return rows


def metric_title(metric: str) -> str:
    """The display name of a metric key: ``f1`` -> ``F1``, ``pr_auc`` -> ``Pr Auc``."""
    return " ".join(part.capitalize() for part in metric.split("_"))


@dataclass
class TrainerRun:
    """What a Trainer output directory says about a run.

    Attributes:
        run_dir: The directory.
        state: ``trainer_state.json``.
        results: ``all_results.json`` merged over ``train_results.json``/``eval_results.json``
            (empty when none exists).
        config: ``config.json`` (empty when absent).
        training_info: Our ``training_info.json``, or None for a run made elsewhere.
        rows: The "Training results" table rows.
    """

    run_dir: Path
    state: dict[str, Any]
    results: dict[str, Any]
    config: dict[str, Any]
    training_info: dict[str, Any] | None
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def log_history(self) -> list[dict[str, Any]]:
        """The Trainer's log history."""
        return self.state["log_history"]

    @property
    def base_model(self) -> str | None:
        """The model the run fine-tuned, as ``config.json`` names it, if it does."""
        name = self.config.get("_name_or_path")
        return str(name) if name else None

    def final_evaluation(self) -> dict[str, float] | None:
        """The final evaluation (``eval_*`` of the results files, else the last logged one).

        Returns:
            ``{"loss", "accuracy", "f1", "precision", "recall", ...}`` without the ``eval_``
            prefix and bookkeeping keys, or None when the run has no evaluation.
        """
        source = self.results if "eval_loss" in self.results else None
        if source is None:
            evaluations = [e for e in self.log_history if "eval_loss" in e]
            source = evaluations[-1] if evaluations else None
        if source is None:
            return None
        return {
            key.removeprefix("eval_"): value
            for key, value in source.items()
            if key.startswith("eval_") and key not in _EVAL_BOOKKEEPING
        }

    def epoch_evaluations(self) -> list[dict[str, Any]]:
        """Every logged evaluation (epoch, step, eval_* values), in order."""
        return [e for e in self.log_history if "eval_loss" in e]

    def train_losses(self) -> list[tuple[int, float]]:
        """(step, loss) of every logged training loss."""
        return [(int(e["step"]), float(e["loss"])) for e in self.log_history if "loss" in e]


def load_run(run_dir: str | Path) -> TrainerRun:
    """Read a Trainer output directory.

    Raises:
        RunDirError: If the directory or its ``trainer_state.json`` is missing, or a file is
            malformed (the message names the file).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunDirError(f"{run_dir}: run directory not found")
    state = read_json(run_dir / "trainer_state.json")
    assert state is not None
    history = state.get("log_history")
    if not isinstance(history, list):
        raise RunDirError(f"{run_dir / 'trainer_state.json'}: no log_history list")
    results: dict[str, Any] = {}
    for name in ("train_results.json", "eval_results.json", "all_results.json"):
        results.update(read_json(run_dir / name, required=False) or {})
    try:
        rows = training_results(history)
    except RunDirError as error:
        raise RunDirError(f"{run_dir / 'trainer_state.json'}: {error}") from None
    return TrainerRun(
        run_dir=run_dir,
        state=state,
        results=results,
        config=read_json(run_dir / "config.json", required=False) or {},
        training_info=read_json(run_dir / "training_info.json", required=False),
        rows=rows,
    )
