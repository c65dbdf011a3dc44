"""Multi-head experiments in the splits stage: one label matrix, per-head checks and reports."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from splits_fixtures import REFERENCE, assign, outputs, paper, write_papers, write_weak

from arxivcat.config import ConfigError, get_experiment, validate_config
from arxivcat.splits.assign_splits import SplitError
from arxivcat.splits.heads import every_category_heads, head_matrix
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.settings import LabellingSettings
from arxivcat.splits.table_schema import table_heads

HEADS = {"CV": ["cs.CV"], "ML": ["cs.LG", "stat.ML"], "RO": ["cs.RO"]}


def test_head_matrix_asks_each_head_what_labels_asks():
    categories = pa.array([["cs.CV"], ["cs.LG", "cs.CV"], ["stat.ML"], ["math.AG", "cs.RO"], []])
    primary = pa.array(["cs.CV", "cs.LG", "stat.ML", "math.AG", None])
    expected_any = [[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert head_matrix(categories, primary, HEADS).astype(int).tolist() == expected_any
    expected_primary = [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]]
    assert head_matrix(categories, primary, HEADS, "primary").astype(int).tolist() == (
        expected_primary
    )


def test_every_category_heads_count_training_papers_only_once_each():
    categories = pa.array([["cs.CV", "cs.CV"], ["cs.CV"], ["cs.LG"], ["cs.LG"], ["cs.RO"]])
    primary = pa.array(["cs.CV", "cs.CV", "cs.LG", "cs.LG", "cs.RO"])
    train = np.array([True, True, True, False, True])
    # cs.CV: 2 training papers (the first lists it twice); cs.LG: 1 (the other is not training).
    assert every_category_heads(categories, primary, train, 2) == {"cs.CV": ("cs.CV",)}
    assert list(every_category_heads(categories, primary, train, 1)) == ["cs.CV", "cs.LG", "cs.RO"]


def _corpus(tmp_path):
    rows = []
    for i in range(300):
        cats = [["cs.CV"], ["cs.LG"], ["cs.RO", "cs.CV"], ["math.AG"], ["stat.ML"]][i % 5]
        rows.append(paper(f"15{i:05d}", cats, 2012 + i % 8))
    corpus = write_papers(rows, tmp_path / "arxiv.parquet")
    assign(corpus, REFERENCE, tmp_path / "assignment.parquet", name="reference")
    write_weak([{"id": f"W{i:03d}", "title": f"Soil work {i}"} for i in range(40)],
               tmp_path / "weak.parquet")  # fmt: skip
    return corpus


def _labelling(heads, share=0.0, minimum=1):
    return LabellingSettings((), share, "any", 100, heads, minimum)


def _build(tmp_path, heads, share=0.0, minimum=1, name="multi"):
    paths = outputs(tmp_path, name)
    report = build_experiment_data(
        tmp_path / "arxiv.parquet",
        tmp_path / "assignment.parquet",
        tmp_path / "weak.parquet" if share else None,
        **paths,
        experiment=name,
        labelling=_labelling(heads, share, minimum),
    )
    return report, {s: pq.read_table(p) for s, p in paths["output_paths"].items()}


def test_multi_head_tables_hold_one_label_per_head_and_weak_negatives_are_negative_for_all(
    tmp_path,
):
    _corpus(tmp_path)
    report, tables = _build(tmp_path, HEADS, share=0.1)
    train = tables["train"]
    assert table_heads(train.schema) == ["CV", "ML", "RO"]
    labels = np.array(train["label"].to_pylist())
    assert labels.shape == (train.num_rows, 3)
    categories = dict(zip(train["id"].to_pylist(), train["primary_category"].to_pylist(),
                          strict=True))  # fmt: skip
    for row_id, row in zip(train["id"].to_pylist(), labels.tolist(), strict=True):
        if row_id.startswith("W"):
            assert row == [0, 0, 0]
        elif categories[row_id] == "cs.RO":  # cs.RO + cs.CV
            assert row == [1, 0, 1]
        elif categories[row_id] == "stat.ML":
            assert row == [0, 1, 0]
    heads = {h["name"]: h for h in report["heads"]}
    assert list(heads) == ["CV", "ML", "RO"] and heads["ML"]["labels"] == ["cs.LG", "stat.ML"]
    positives = int(labels[:, 0].sum())
    assert heads["CV"]["splits"]["train"]["positives"] == positives
    assert report["splits"]["train"]["weak_negatives"] == report["weak_negatives"] > 0


def test_every_category_heads_and_the_heads_left_out_are_reported(tmp_path):
    _corpus(tmp_path)
    report, tables = _build(tmp_path, "every-category", minimum=30)
    names = [h["name"] for h in report["heads"]]
    assert names == ["cs.CV", "cs.LG", "cs.RO", "math.AG", "stat.ML"]
    assert table_heads(tables["test"].schema) == names
    assert report["dropped_heads"] == []
    with pytest.raises(SplitError, match="no category has 1000 positive training papers"):
        _build(tmp_path, "every-category", minimum=1000, name="none")


def test_a_head_without_a_positive_in_a_split_stops_labelling_naming_the_head(tmp_path):
    _corpus(tmp_path)
    with pytest.raises(SplitError, match=r"has no positive paper for head GR labels cs\.GR"):
        _build(tmp_path, {**HEADS, "GR": ["cs.GR"]})


def test_config_takes_labels_or_heads_and_checks_each_head(schema):
    config = {"experiments": {"five": {"heads": {"CV": ["cs.CV"], "RO": ["cs.RO"]}}}}
    experiment = get_experiment(validate_config(config, schema), "five")
    assert experiment.multi_head and experiment.labels == ()
    assert experiment.labelling()["heads"] == {"CV": ["cs.CV"], "RO": ["cs.RO"]}
    every = validate_config({"experiments": {"all": {"heads": "every-category"}}}, schema)
    assert get_experiment(every, "all").min_head_positives == 100
    with pytest.raises(ConfigError, match=r"either labels .* or heads"):
        validate_config({"experiments": {"x": {"labels": ["cs.CV"], "heads": {"a": ["cs.CV"]}}}},
                        schema)  # fmt: skip
    with pytest.raises(ConfigError, match="either labels"):
        validate_config({"experiments": {"x": {"split": "reference"}}}, schema)
    with pytest.raises(ConfigError, match=r"experiments\.x\.heads\.RO: not arXiv categories"):
        validate_config({"experiments": {"x": {"heads": {"RO": ["cs.ROBOTS"]}}}}, schema)
    with pytest.raises(ConfigError, match="heads"):
        validate_config({"experiments": {"x": {"heads": {"bad name": ["cs.RO"]}}}}, schema)
    with pytest.raises(ConfigError, match="heads"):
        validate_config({"experiments": {"x": {"heads": "every-thing"}}}, schema)


def test_split_report_keeps_its_binary_form_for_binary_experiments(tmp_path):
    _corpus(tmp_path)
    paths = outputs(tmp_path, "cv")
    report = build_experiment_data(
        tmp_path / "arxiv.parquet",
        tmp_path / "assignment.parquet",
        None,
        **paths,
        experiment="cv",
        labelling=LabellingSettings(("cs.CV",), 0.0, "any", 100, None, 0),
    )
    assert "heads" not in report
    assert pq.read_schema(paths["output_paths"]["train"]).field("label").type == pa.int8()
    assert json.loads(paths["report_path"].read_text()) == report
