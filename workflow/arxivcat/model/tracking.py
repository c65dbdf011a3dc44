"""Experiment trackers (``training.report_to``): where their local files go, during and after.

The Trainer reports to the trackers through its own integrations.  Their local files are written
into the run's checkpoint store while it trains, so that a resumed run continues them, and move
into the model directory with the model, so that they are part of the train rule's output (a
rerun replaces them, and cleaning the model removes them):

- tensorboard: the Trainer's default ``<store>/runs/<date>_<host>/`` event files;
- mlflow: a file store ``<store>/mlruns`` unless ``MLFLOW_TRACKING_URI`` names another store or a
  server;
- wandb: ``<store>/wandb`` unless ``WANDB_DIR`` is set.

Servers, accounts and keys come from each tracker's own environment variables (``WANDB_API_KEY``,
``MLFLOW_TRACKING_TOKEN`` ...), which nothing here reads or logs.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

#: The folders the trackers write under the Trainer's output directory (the store).
TRACKER_DIRS = ("runs", "mlruns", "wandb")


def tracker_environment(report_to: Iterable[str], store: Path) -> dict[str, str]:
    """Environment variables that keep the local files of ``report_to``'s trackers in ``store``.

    Only variables the environment does not already set are returned: a tracking server named
    there wins.
    """
    trackers = set(report_to)
    defaults = {}
    if "mlflow" in trackers:
        defaults["MLFLOW_TRACKING_URI"] = (store / "mlruns").resolve().as_uri()
    if "wandb" in trackers:
        defaults["WANDB_DIR"] = str(store.resolve())
    return {key: value for key, value in defaults.items() if key not in os.environ}


def start_trackers(report_to: Iterable[str], store: Path) -> None:
    """Point the trackers' local files into ``store`` (this process's environment) and say so."""
    trackers = sorted(report_to)
    if not trackers:
        return
    os.environ.update(tracker_environment(trackers, store))
    logger.info("reporting to %s; local tracker files go to %s", ", ".join(trackers), store)


def keep_tracker_files(store: Path, model_dir: Path) -> list[str]:
    """Move the trackers' folders from the finished run's store into the model directory.

    Returns:
        The folders moved (names in :data:`TRACKER_DIRS`).
    """
    moved = []
    for name in TRACKER_DIRS:
        if (store / name).is_dir():
            shutil.move(store / name, model_dir / name)
            moved.append(name)
    if moved:
        logger.info("tracker files kept in %s: %s", model_dir, ", ".join(moved))
    return moved
