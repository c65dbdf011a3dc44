"""The TF-IDF + logistic regression baseline trained on an experiment's tables."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from tiny_run import write_tables

from arxivcat.model.train_baseline import BaselineError, train_baseline


def tables(data_dir):
    """The three experiment tables of ``data_dir``, as the rule passes them."""
    return {split: data_dir / f"{split}.parquet" for split in ("train", "validation", "test")}


def test_baseline_learns_a_separable_split(tmp_path):
    write_tables(tmp_path / "data")
    result = train_baseline(
        tables(tmp_path / "data"), tmp_path / "baseline" / "metrics.json", seed=1
    )
    assert json.loads((tmp_path / "baseline" / "metrics.json").read_text()) == result
    # Positive titles (vision) and negatives (maths, astronomy, agronomy) share no words.
    assert result["test"]["f1"] == 1.0 and result["validation"]["samples"] == 20
    assert result["train_rows"] == 44  # weak negatives included, as in training


def test_baseline_weights_classes_and_chooses_its_threshold_on_validation(tmp_path):
    data = write_tables(tmp_path / "data")
    # A rare positive class: one positive in eleven training rows.
    table = pq.read_table(data / "train.parquet")
    labels = table.column("label").to_pylist()
    keep = [i for i, v in enumerate(labels) if v == 0 or i % 10 == 0]
    pq.write_table(table.take(keep), data / "train.parquet")
    weighted = train_baseline(tables(data), tmp_path / "w.json", seed=1)
    plain = train_baseline(tables(data), tmp_path / "p.json", seed=1, class_weight=None)
    assert weighted["settings"]["class_weight"] == "balanced"
    assert plain["settings"]["class_weight"] is None
    # Unweighted, the rare class is sacrificed at 0.5; weighted, it is found.
    assert plain["test"]["recall"] < weighted["test"]["recall"]
    chosen = weighted["threshold"]
    assert 0 < chosen["threshold"] < 1
    assert set(chosen) == {"threshold", "signal", "validation", "test"} and chosen["signal"]
    assert chosen["validation"]["at_threshold"]["f1"] >= chosen["validation"]["at_0.5"]["f1"]
    assert chosen["test"]["at_0.5"]["f1"] == weighted["test"]["f1"]


def test_baseline_on_shuffled_labels_is_no_better_than_chance(tmp_path):
    data = write_tables(tmp_path / "data")
    for split in ("validation", "test"):
        table = pq.read_table(data / f"{split}.parquet")
        labels = [int(i % 4 < 2) for i in range(table.num_rows)]
        index = table.schema.get_field_index("label")
        table = table.set_column(index, "label", pa.array(labels, pa.int8()))
        pq.write_table(table, data / f"{split}.parquet")
    result = train_baseline(tables(data), tmp_path / "m.json")
    assert result["test"]["f1"] < 0.8


def test_single_class_training_fails_clearly(tmp_path):
    data = write_tables(tmp_path / "data")
    table = pq.read_table(data / "train.parquet")
    index = table.schema.get_field_index("label")
    table = table.set_column(index, "label", pa.array([0] * table.num_rows, pa.int8()))
    pq.write_table(table, data / "train.parquet")
    with pytest.raises(BaselineError, match="single class"):
        train_baseline(tables(data), tmp_path / "m.json")
    (data / "test.parquet").unlink()
    with pytest.raises(BaselineError, match=r"test\.parquet: experiment table not found"):
        train_baseline(tables(data), tmp_path / "m.json")


def test_tables_are_read_from_the_paths_given_not_from_a_folder_layout(tmp_path):
    data = write_tables(tmp_path / "data")
    paths = {}
    for split in ("train", "validation", "test"):
        paths[split] = tmp_path / split / f"rows-{split}.parquet"
        paths[split].parent.mkdir()
        (data / f"{split}.parquet").rename(paths[split])
    result = train_baseline(paths, tmp_path / "m.json")
    assert result["train_rows"] == 44 and result["test"]["samples"] == 20
    with pytest.raises(BaselineError, match="no test table given"):
        train_baseline({k: v for k, v in paths.items() if k != "test"}, tmp_path / "m.json")


def test_each_papers_probability_is_written_in_the_evaluate_stages_format(tmp_path):
    from arxivcat.model.metrics import binary_metrics
    from arxivcat.model.split_scoring import predictions_schema

    data = write_tables(tmp_path / "data")
    out = tmp_path / "baseline" / "predictions.parquet"
    result = train_baseline(tables(data), tmp_path / "m.json", seed=1, predictions_path=out)
    written = pq.read_table(out)
    assert written.schema == predictions_schema()
    assert sorted(set(written["split"].to_pylist())) == ["test", "validation"]
    for split in ("validation", "test"):
        rows = written.filter(pc.equal(written["split"], split))
        source = pq.read_table(data / f"{split}.parquet")
        assert rows["id"].to_pylist() == source["id"].to_pylist()
        assert rows["label"].to_pylist() == source["label"].to_pylist()
        assert rows["is_weak_negative"].to_pylist() == source["is_weak_negative"].to_pylist()
        scores = rows["probability"].to_numpy()
        assert binary_metrics(rows["label"].to_numpy(), scores) == result[split]
