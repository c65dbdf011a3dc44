"""Prevalence, calibration and the drift facts of a card: hand-computed cases and known truths."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arxivcat.model.calibration import fit_temperature, reliability, scale
from arxivcat.model.metrics import metrics_by_year, rate_metrics, threshold_report
from arxivcat.model.prevalence import at_prevalence, estimated_prevalence
from arxivcat.report.choose_threshold import choose_threshold
from arxivcat.report.drift import drift_facts, prevalence_rows


def test_precision_and_f1_at_another_share_by_hand():
    # TPR 0.8, FPR 0.1 at 20% positives: 16% of papers rightly labelled, 8% wrongly.
    m = at_prevalence(0.8, 0.1, 0.2)
    assert m["labelled_positive"] == pytest.approx(0.24)
    assert m["precision"] == pytest.approx(0.16 / 0.24)
    assert m["recall"] == 0.8
    assert m["f1"] == pytest.approx(2 * (2 / 3) * 0.8 / (2 / 3 + 0.8))
    # At 2% positives the same threshold is mostly wrong: 0.016 right of 0.114 labelled.
    assert at_prevalence(0.8, 0.1, 0.02)["precision"] == pytest.approx(0.016 / 0.114)
    assert estimated_prevalence(0.24, 0.8, 0.1) == pytest.approx(0.2)
    assert estimated_prevalence(0.05, 0.8, 0.1) == 0.0  # fewer labelled than FPR alone gives
    assert estimated_prevalence(0.3, 0.1, 0.1) is None  # rates that cannot tell


def _scores(rng, positives, negatives):
    """A scorer with fixed behaviour: positives score Beta(5, 2), negatives Beta(2, 5)."""
    labels = np.r_[np.ones(positives, int), np.zeros(negatives, int)]
    scores = np.r_[rng.beta(5, 2, positives), rng.beta(2, 5, negatives)]
    return labels, scores


def test_the_corrected_share_finds_a_corpus_true_share_the_labelled_share_misses():
    rng = np.random.default_rng(0)
    labels, scores = _scores(rng, 3000, 7000)  # validation: 30% positives
    report = threshold_report({"validation": (labels, scores)})
    rates = report["validation"]["at_threshold"]
    # A corpus of 5% positives, scored by the same scorer and labelled at the same threshold.
    corpus_labels, corpus_scores = _scores(rng, 2500, 47500)
    labelled = float((corpus_scores > report["threshold"]).mean())
    estimate = estimated_prevalence(labelled, rates["recall"], rates["false_positive_rate"])
    assert abs(labelled - 0.05) > 0.05  # the raw share is far off
    assert estimate == pytest.approx(0.05, abs=0.01)
    assert rate_metrics(corpus_labels, corpus_scores > report["threshold"])["recall"] == (
        pytest.approx(rates["recall"], abs=0.03)
    )


def test_prevalence_rows_use_each_scorers_own_rates():
    model = {"validation": {"at_threshold": {"recall": 0.8, "false_positive_rate": 0.1}}}
    tfidf = {"validation": {"at_threshold": {"recall": 0.6, "false_positive_rate": 0.05}}}
    rows = prevalence_rows({"validation": 0.2, "corpus": None, "deployment": 0.02},
                           {"model": model, "tfidf": tfidf})  # fmt: skip
    assert [row["name"] for row in rows] == ["validation", "deployment"]
    assert rows[0]["model"]["precision"] == pytest.approx(2 / 3)
    assert rows[1]["tfidf"]["precision"] == pytest.approx(0.012 / (0.012 + 0.049))


def test_a_temperature_fitted_on_validation_brings_probabilities_to_frequencies():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, 20000)
    labels = (rng.random(20000) < 1 / (1 + np.exp(-z))).astype(int)
    overconfident = 1 / (1 + np.exp(-3 * z))
    temperature = fit_temperature(labels, overconfident)
    assert temperature == pytest.approx(3, rel=0.05)
    before = reliability(labels, overconfident)["ece"]
    after = reliability(labels, scale(overconfident, temperature))["ece"]
    assert before > 0.1 and after < 0.02


def _predictions(path, rng, rows=400):
    labels, scores = _scores(rng, rows // 4, rows - rows // 4)
    split = np.array(["validation", "test", "heldout", "test"] * (rows // 4))
    rng.shuffle(split)
    ids = [f"p{i}" for i in range(rows)]
    pq.write_table(pa.table({"id": ids, "split": split, "probability": scores ** 3,
                             "label": labels.astype(np.int8),
                             "is_weak_negative": np.zeros(rows, bool)}), path)  # fmt: skip
    return ids, split


def test_choosing_with_a_temperature_moves_the_threshold_not_the_decisions(tmp_path):
    rng = np.random.default_rng(2)
    _predictions(tmp_path / "p.parquet", rng)
    plain = choose_threshold(tmp_path / "p.parquet")
    calibrated = choose_threshold(tmp_path / "p.parquet", "temperature")
    assert plain["temperature"] is None and calibrated["temperature"] > 0
    for split in ("validation", "test", "heldout"):
        assert calibrated[split]["at_threshold"]["f1"] == pytest.approx(
            plain[split]["at_threshold"]["f1"]
        )


def test_years_and_calibration_of_a_card(tmp_path):
    rng = np.random.default_rng(3)
    ids, split = _predictions(tmp_path / "p.parquet", rng)
    years = [2015 + i % 10 for i in range(len(ids))]
    for name in ("test", "heldout"):
        rows = [i for i, s in enumerate(split) if s == name]
        pq.write_table(pa.table({"id": [ids[i] for i in rows], "year": [years[i] for i in rows]}),
                       tmp_path / f"{name}.parquet")  # fmt: skip
    chosen = choose_threshold(tmp_path / "p.parquet")
    tables = {name: tmp_path / f"{name}.parquet" for name in ("test", "heldout")}
    drift = drift_facts(tmp_path / "p.parquet", tables, chosen)
    assert set(drift.years) == {"test", "heldout"}
    assert sum(row["papers"] for row in drift.years["test"]) == int((split == "test").sum())
    assert [row["year"] for row in drift.years["heldout"]] == sorted(
        {y for y, s in zip(years, split, strict=True) if s == "heldout"}
    )
    assert 0 <= drift.calibration["before"]["ece"] <= 1 and drift.calibration["temperature"] is None


def test_metrics_by_year_count_every_paper_once():
    labels = np.array([1, 0, 1, 1, 0])
    predicted = np.array([1, 0, 0, 1, 1])
    rows = metrics_by_year(labels, predicted, np.array([2020, 2020, 2021, 2021, 2021]))
    assert [(r["year"], r["papers"], r["positives"]) for r in rows] == [(2020, 2, 1), (2021, 3, 2)]
    assert rows[0]["f1"] == 1.0 and rows[1]["precision"] == 0.5
