"""The frozen-encoder probe: rows joined by id, C and threshold chosen on validation only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from arxivcat.config import schema_defaults
from arxivcat.probe.embed import embedding_schema
from arxivcat.probe.features import ProbeDataError, gather, read_table
from arxivcat.probe.settings import ProbeSettings
from arxivcat.probe.train_probe import train_probe
from arxivcat.splits.table_schema import experiment_schema, label_array

DIMENSION = 6
SIZES = {"train": 120, "validation": 60, "test": 60}
PASS = {"rows": 400, "seconds": 80.0, "cpu_seconds": 150.0, "placement": "cpu bf16"}
WEAK_PASS = {"rows": 20, "seconds": 4.0, "cpu_seconds": 6.0, "placement": "cpu bf16"}


def labels_of(split: str, rows: int, heads: int | None) -> np.ndarray:
    rng = np.random.default_rng(len(split))
    shape = (rows,) if heads is None else (rows, heads)
    return (rng.uniform(size=shape) < 0.3).astype(np.int8)


def write_experiment(root: Path, heads: list[str] | None = None, weak: int = 5) -> dict[str, Path]:
    """Experiment tables (train with ``weak`` weak negatives), the split's embedding and the
    weak-negative pool's (``embeddings``: both, each with its manifest).

    The split's embedding holds every row and papers the experiment left out; the pool a weak
    negative whose id is also an arXiv paper's; a row's first dimensions carry its labels, plus
    noise.
    """
    schema = experiment_schema(heads)
    rng = np.random.default_rng(7)
    stored: dict[tuple[str, bool], np.ndarray] = {}
    paths = {}
    for split, rows in SIZES.items():
        labels = labels_of(split, rows, len(heads) if heads else None)
        ids = [f"{split}-{i}" for i in range(rows)]
        is_weak = [False] * rows
        if split == "train":
            ids += ["train-0", *(f"W{i}" for i in range(1, weak))]  # a weak id that is a paper's
            is_weak += [True] * weak
            labels = np.concatenate([labels, np.zeros((weak, *labels.shape[1:]), np.int8)])
        signal = labels.reshape(len(ids), -1).astype(np.float32)
        for i, (paper, kind) in enumerate(zip(ids, is_weak, strict=True)):
            vector = rng.normal(size=DIMENSION).astype(np.float32)
            vector[: signal.shape[1]] += 1.5 * signal[i] - 3.0 * kind
            stored[(paper, kind)] = vector
        table = {
            "id": ids, "title": ids, "abstract": ids, "label": label_array(labels, schema),
            "primary_category": [None] * len(ids), "year": [2015] * len(ids),
            "is_weak_negative": is_weak,
        }  # fmt: skip
        paths[split] = root / f"{split}.parquet"
        pq.write_table(pa.table(table, schema=schema), paths[split])
    for i in range(10):  # papers of the split that this experiment does not use
        stored[(f"unused-{i}", False)] = rng.normal(size=DIMENSION).astype(np.float32)
    encoder = {"model": "builtin:minilm", "max_length": 64, "dimension": DIMENSION,
               "pooling": {"mode": "mean", "description": "mean pooling, unit length"}}  # fmt: skip
    paths["embeddings"] = []
    for name, kind, record in (("embeddings", False, PASS), ("weak", True, WEAK_PASS)):
        keys = [key for key in stored if key[1] == kind]
        vectors = np.stack([stored[k] for k in keys]).reshape(-1)
        embeddings = pa.table(
            [
                pa.array([k[0] for k in keys]),
                pa.array([k[1] for k in keys]),
                pa.FixedSizeListArray.from_arrays(pa.array(vectors, pa.float32()), DIMENSION),
            ],
            schema=embedding_schema(DIMENSION),
        )
        table, manifest = root / f"{name}.parquet", root / f"{name}.json"
        pq.write_table(embeddings, table, row_group_size=50)
        manifest.write_text(json.dumps({"encoder": encoder, "pass": record}))
        paths["embeddings"].append((table, manifest))
    paths["stored"] = stored  # type: ignore[assignment]
    return paths


def probe(paths: dict, out: Path, predictions: Path | None = None, **overrides) -> dict:
    settings = ProbeSettings.from_dict({**schema_defaults("probe"), **overrides})
    tables = {split: paths[split] for split in SIZES}
    return train_probe(tables, paths["embeddings"], out, settings, predictions)


def test_rows_are_joined_by_id_and_kind(tmp_path):
    paths = write_experiment(tmp_path)
    tables = [table for table, _ in paths["embeddings"]]
    rows = gather(tables, {"train": read_table(paths["train"])[0]})["train"]
    assert rows.features.shape == (SIZES["train"] + 5, DIMENSION)
    for i, (paper, weak) in enumerate(zip(rows.ids.to_pylist(), rows.weak, strict=True)):
        np.testing.assert_array_equal(rows.features[i], paths["stored"][(paper, bool(weak))])
    # The weak negative "train-0" and the paper "train-0" are two rows with two embeddings.
    assert not np.array_equal(rows.features[0], rows.features[SIZES["train"]])


def test_a_row_without_embedding_fails_naming_it(tmp_path):
    paths = write_experiment(tmp_path)
    table = pq.read_table(paths["test"])
    ids = table["id"].to_pylist()
    ids[3] = "not-embedded"
    pq.write_table(table.set_column(0, "id", pa.array(ids)), paths["test"])
    with pytest.raises(ProbeDataError, match=r"\(test\): 1 of 60 rows .*'not-embedded'"):
        probe(paths, tmp_path / "probe.json")


def test_each_papers_probability_is_written_in_the_evaluate_stages_format(tmp_path):
    from arxivcat.model.metrics import binary_metrics
    from arxivcat.model.split_scoring import predictions_schema

    paths = write_experiment(tmp_path)
    record = probe(paths, tmp_path / "probe.json", tmp_path / "predictions.parquet")
    written = pq.read_table(tmp_path / "predictions.parquet")
    assert written.schema == predictions_schema()
    for split in ("validation", "test"):
        rows = written.filter(pc.equal(written["split"], split))
        source = pq.read_table(paths[split])
        for column in ("id", "label", "is_weak_negative"):
            assert rows[column].to_pylist() == source[column].to_pylist()
        scores = rows["probability"].to_numpy()
        assert binary_metrics(rows["label"].to_numpy(), scores) == record[split]
    assert "train" not in written["split"].to_pylist()


def test_c_and_threshold_are_chosen_on_validation_never_on_test(tmp_path):
    paths = write_experiment(tmp_path)
    first = probe(paths, tmp_path / "first.json")
    assert first["C"] in schema_defaults("probe")["c_grid"]
    assert [g["C"] for g in first["grid"]] == sorted(schema_defaults("probe")["c_grid"])
    best = max(g["validation_f1_at_threshold"] for g in first["grid"])
    assert (
        next(g for g in first["grid"] if g["validation_f1_at_threshold"] == best)["C"] == first["C"]
    )
    assert first["threshold"]["signal"] and first["test"]["f1"] > 0.5
    assert first["threshold"]["validation"]["at_threshold"]["f1"] == best
    # Other test labels: the same choices, other test numbers.
    table = pq.read_table(paths["test"])
    flipped = 1 - table["label"].to_numpy()
    pq.write_table(table.set_column(3, "label", pa.array(flipped.astype(np.int8))), paths["test"])
    second = probe(paths, tmp_path / "second.json")
    for key in ("C", "grid", "validation"):
        assert second[key] == first[key], key
    assert second["threshold"]["threshold"] == first["threshold"]["threshold"]
    assert second["threshold"]["validation"] == first["threshold"]["validation"]
    assert second["test"]["f1"] != first["test"]["f1"]
    # Other validation labels: other choices.
    table = pq.read_table(paths["validation"])
    flipped = 1 - table["label"].to_numpy()
    pq.write_table(
        table.set_column(3, "label", pa.array(flipped.astype(np.int8))), paths["validation"]
    )
    third = probe(paths, tmp_path / "third.json")
    assert third["grid"] != first["grid"]


def test_the_record_states_the_compute_and_the_encoder(tmp_path):
    paths = write_experiment(tmp_path)
    record = probe(paths, tmp_path / "probe.json")
    assert json.loads((tmp_path / "probe.json").read_text()) == record
    rows = sum(SIZES.values()) + 5
    # Its share of both passes it reads: the split's and the weak-negative pool's.
    share = rows / (PASS["rows"] + WEAK_PASS["rows"])
    assert record["embedding"] == {
        "rows": rows, "of": 420, "seconds": round(share * 84.0, 3),
        "cpu_seconds": round(share * 156.0, 3), "pass_seconds": 84.0, "pass_cpu_seconds": 156.0,
        "placement": "cpu bf16",
    }  # fmt: skip
    assert record["fit_seconds"] > 0 and record["fit_cpu_seconds"] > 0
    assert record["encoder"]["pooling"]["mode"] == "mean" and record["train_rows"] == 125
    assert record["settings"]["class_weight"] == "balanced"


def test_a_multi_head_experiment_gets_a_probe_per_head(tmp_path):
    paths = write_experiment(tmp_path, heads=["CV", "NLP"])
    record = probe(paths, tmp_path / "probe.json", c_grid=[0.1, 1.0])
    assert list(record["heads"]) == ["CV", "NLP"]
    for head in record["heads"].values():
        assert head["C"] in (0.1, 1.0) and head["threshold"]["signal"]
        assert head["test"]["samples"] == SIZES["test"] and head["fit_seconds"] > 0
    assert record["fit_seconds"] >= sum(h["fit_seconds"] for h in record["heads"].values())
    assert "validation" not in record and record["embedding"]["rows"] == sum(SIZES.values()) + 5


def test_held_out_papers_are_scored_when_there_are_some(tmp_path):
    paths = write_experiment(tmp_path)
    settings = ProbeSettings.from_dict(schema_defaults("probe"))
    tables = {split: paths[split] for split in SIZES}
    empty = tmp_path / "heldout-empty.parquet"
    pq.write_table(pq.read_table(paths["test"]).slice(0, 0), empty)
    record = train_probe(
        {**tables, "heldout": empty}, paths["embeddings"], tmp_path / "none.json", settings,
    )  # fmt: skip
    assert "heldout" not in record and "heldout" not in record["threshold"]
    # The test papers standing in for held-out ones: the same numbers, at the same threshold.
    record = train_probe(
        {**tables, "heldout": paths["test"]}, paths["embeddings"], tmp_path / "some.json", settings,
    )  # fmt: skip
    assert record["heldout"] == record["test"]
    assert record["threshold"]["heldout"] == record["threshold"]["test"]
    assert record["embedding"]["rows"] == sum(SIZES.values()) + 5 + SIZES["test"]
