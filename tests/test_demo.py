"""The offline demo of the README (`make demo`): synthetic records, MiniLM, a card on CPU."""

from __future__ import annotations

import json

import pytest
import yaml
from huggingface_hub import ModelCard
from workflow_runner import REPO, snakemake

from arxivcat import layout

pytestmark = pytest.mark.e2e


def test_demo_learns_and_its_card_says_the_data_are_synthetic(tmp_path):
    demo = yaml.safe_load((REPO / "config" / "demo.yaml").read_text(encoding="utf-8"))
    card_path = layout.CARD.format(experiment="demo")
    snakemake(tmp_path, "--", card_path, config=demo)
    metrics_path = tmp_path / layout.EVAL_METRICS.format(experiment="demo")
    metrics = json.loads(metrics_path.read_text())
    # Chance for a 24%-positive label set is an F1 of about 0.24 (all positive) or 0.
    assert metrics["test"]["f1"] > 0.6, metrics["test"]
    card = ModelCard.load(tmp_path / card_path)
    assert "**Synthetic data.**" in card.text
    assert "More information needed" not in card.text
