"""Evaluation: a saved model's metrics on the tokenized splits, recomputed from predictions."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import f1_score
from tiny_run import write_model_dir, write_tables, write_tokenized
from training_settings import training_settings

from arxivcat.model.evaluate import EvaluationError, evaluate_model, metrics_from_predictions
from arxivcat.model.metrics import binary_metrics, f1_difference_interval

SETTINGS = {"device": "cpu", "precision": "auto", "eval_batch_size": 7}
TYPED = training_settings(**SETTINGS)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    data = write_tables(root / "data")
    tokenized = write_tokenized(data, root / "tokenized", validation_weak=3)
    model = write_model_dir(root / "model", SETTINGS)
    metrics = evaluate_model(
        model_dir=model,
        dataset_dir=tokenized,
        metrics_path=root / "eval" / "metrics.json",
        predictions_path=root / "eval" / "predictions.parquet",
        settings=TYPED,
    )
    return root, metrics


def test_binary_metrics_match_hand_counts():
    labels = [1, 1, 0, 0, 1, 0]
    probs = [0.9, 0.4, 0.6, 0.1, 0.7, 0.5]  # 0.5 is not above one half: predicted 0
    m = binary_metrics(labels, probs)
    assert m["confusion_matrix"] == [[2, 1], [1, 2]]
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["f1"] == pytest.approx(f1_score(labels, [1, 0, 1, 0, 1, 0]))
    assert 0 < m["pr_auc"] <= 1 and m["samples"] == 6 and m["positives"] == 3


def test_f1_difference_interval_is_paired_and_reproducible():
    rng = np.random.default_rng(1)
    labels = rng.random(4000) < 0.05
    better = np.where(rng.random(4000) < 0.9, labels, ~labels & (rng.random(4000) < 0.02))
    worse = np.where(rng.random(4000) < 0.6, labels, ~labels & (rng.random(4000) < 0.02))
    found = f1_difference_interval(labels, better, worse)
    assert found["difference"] == pytest.approx(f1_score(labels, better) - f1_score(labels, worse))
    assert 0 < found["low"] < found["difference"] < found["high"]
    assert f1_difference_interval(labels, better, worse) == found
    # The same classifier twice: every draw's difference is zero (paired, not two samples).
    assert f1_difference_interval(labels, worse, worse) == {
        "difference": 0.0, "low": 0.0, "high": 0.0
    }  # fmt: skip
    # Against resampling papers with replacement, drawn by hand.
    draws = rng.integers(0, 4000, size=(2000, 4000))
    by_hand = [f1_score(labels[d], better[d]) - f1_score(labels[d], worse[d]) for d in draws]
    low, high = np.quantile(by_hand, [0.025, 0.975])
    assert found["low"] == pytest.approx(low, abs=0.015)
    assert found["high"] == pytest.approx(high, abs=0.015)
    # Fewer papers, wider interval.
    few = f1_difference_interval(labels[:800], better[:800], worse[:800])
    assert few["high"] - few["low"] > found["high"] - found["low"]


def test_every_heads_interval_at_once_equals_each_heads_own(monkeypatch):
    from arxivcat.model import metrics

    rng = np.random.default_rng(2)
    labels = rng.random((3000, 5)) < [0.3, 0.1, 0.05, 0.02, 0.0]
    ours = np.where(rng.random(labels.shape) < 0.85, labels, rng.random(labels.shape) < 0.03)
    theirs = np.where(rng.random(labels.shape) < 0.7, labels, rng.random(labels.shape) < 0.03)
    one_by_one = [f1_difference_interval(labels[:, k], ours[:, k], theirs[:, k]) for k in range(5)]
    assert metrics.f1_difference_intervals(labels, ours, theirs) == one_by_one
    assert one_by_one[4] == {"difference": 0.0, "low": 0.0, "high": 0.0} != one_by_one[3]
    # In passes of two heads (a 150-head model's counts need not fit in memory at once).
    monkeypatch.setattr(metrics, "COUNTS_BYTES", 24 * 3000 * 2)
    assert metrics.f1_difference_intervals(labels, ours, theirs) == one_by_one


def test_binary_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="equal"):
        binary_metrics([1, 0], [0.5])
    with pytest.raises(ValueError, match="0 or 1"):
        binary_metrics([2, 0], [0.5, 0.5])
    assert binary_metrics([0, 0], [0.9, 0.1])["pr_auc"] is None


def test_metrics_file_has_every_split_and_the_contract_keys(evaluated):
    root, metrics = evaluated
    written = json.loads((root / "eval" / "metrics.json").read_text())
    assert written == json.loads(json.dumps(metrics))
    for split, rows in (("validation", 23), ("test", 20)):
        m = written[split]
        assert m["samples"] == rows
        assert set(m) >= {"accuracy", "f1", "precision", "recall", "loss", "pr_auc"}
        (tn, fp), (fn, tp) = m["confusion_matrix"]
        assert tn + fp + fn + tp == rows
        assert m["accuracy"] == pytest.approx((tn + tp) / rows)
    # Validation held 3 weak negatives: the metrics without them cover the 20 arXiv rows.
    assert written["validation_without_weak_negatives"]["samples"] == 20
    assert "test_without_weak_negatives" not in written


def test_predictions_reproduce_the_metrics_without_the_model(evaluated):
    root, metrics = evaluated
    table = pq.read_table(root / "eval" / "predictions.parquet")
    assert table.column_names == ["id", "split", "probability", "label", "is_weak_negative"]
    assert table.num_rows == 43
    assert len(set(table["id"].to_pylist())) == 43
    probs = np.asarray(table["probability"].to_pylist())
    assert ((probs >= 0) & (probs <= 1)).all()
    recomputed = metrics_from_predictions(root / "eval" / "predictions.parquet")
    for split in ("validation", "test", "validation_without_weak_negatives"):
        for key in ("accuracy", "f1", "precision", "recall", "pr_auc", "confusion_matrix"):
            assert recomputed[split][key] == metrics[split][key], (split, key)
        assert recomputed[split]["loss"] == pytest.approx(metrics[split]["loss"], rel=1e-6)


def test_predictions_follow_row_order_despite_length_sorting(evaluated, tmp_path):
    """The same model on the same rows, batch size 1 versus 7: identical probabilities per id."""
    root, _ = evaluated
    evaluate_model(
        model_dir=root / "model",
        dataset_dir=root / "tokenized",
        metrics_path=tmp_path / "m.json",
        predictions_path=tmp_path / "p.parquet",
        settings=training_settings(**{**SETTINGS, "eval_batch_size": 1}),
    )
    one = pq.read_table(tmp_path / "p.parquet").to_pylist()
    seven = pq.read_table(root / "eval" / "predictions.parquet").to_pylist()
    by_id = {row["id"]: row["probability"] for row in seven}
    assert [r["id"] for r in one] == [r["id"] for r in seven]
    for row in one:
        assert row["probability"] == pytest.approx(by_id[row["id"]], abs=1e-5)


def test_missing_inputs_fail_clearly(evaluated, tmp_path):
    root, _ = evaluated
    with pytest.raises(EvaluationError, match="not a model directory"):
        evaluate_model(tmp_path, root / "tokenized", tmp_path / "m", tmp_path / "p", TYPED)
    with pytest.raises(EvaluationError, match="DatasetDict"):
        evaluate_model(root / "model", tmp_path, tmp_path / "m", tmp_path / "p", TYPED)
    assert not (tmp_path / "m").exists()
