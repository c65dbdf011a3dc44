"""The tokenize stage: pair encoding, truncation of the abstract, saved layout and columns."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasets import DatasetDict
from synthetic_tables import write_tables
from transformers import AutoTokenizer

from arxivcat.model.loading import load_tokenizer
from arxivcat.model.tokenize import encode_pairs, tokenize_splits


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer("builtin:minilm")


def test_abstract_is_truncated_and_title_kept(tokenizer):
    title = "Deep residual learning for image recognition"
    abstract = " ".join(["pixels"] * 200)
    encoded = encode_pairs(tokenizer, [title], [abstract], max_length=32)
    ids = encoded["input_ids"][0]
    assert len(ids) == 32
    text = tokenizer.decode(ids)
    assert text.startswith("[CLS] deep residual learning for image recognition [SEP] pixels")
    assert text.endswith("[SEP]")
    # Title tokens are segment 0, abstract tokens segment 1.
    assert encoded["token_type_ids"][0][1] == 0 and encoded["token_type_ids"][0][-2] == 1


def test_title_longer_than_the_budget_falls_back_to_cutting_both(tokenizer):
    title = " ".join(["camera"] * 40)
    encoded = encode_pairs(tokenizer, [title, "short"], ["an abstract", "an abstract"], 16)
    assert [len(ids) for ids in encoded["input_ids"]] == [16, 6]
    assert len(encoded["attention_mask"][0]) == 16


@pytest.mark.parametrize("parallel_min_rows", [20_000, 10])
def test_tokenize_splits_writes_the_contract_layout(tmp_path, monkeypatch, parallel_min_rows):
    # 10: two worker processes, each writing its share of a split to its own file.
    monkeypatch.setattr("arxivcat.model.tokenize.PARALLEL_MIN_ROWS", parallel_min_rows)
    paths = write_tables(tmp_path / "tables", {"train": 50, "validation": 20, "test": 30})
    output = tmp_path / "tokenized"
    saved_from = []
    save = DatasetDict.save_to_disk

    def recording_save(self, *args, **kwargs):
        for split in self.values():
            saved_from.append({Path(f["filename"]).parent for f in split.cache_files})
        return save(self, *args, **kwargs)

    monkeypatch.setattr(DatasetDict, "save_to_disk", recording_save)
    returned = tokenize_splits(paths, "builtin:minilm", 48, output, num_proc=2)
    assert not (tmp_path / "tokenized.partial").exists()
    # The rows were made on disk beside the output (every split saved from there, none from
    # memory), and that scratch is gone; what is returned is memory-mapped from the output.
    assert saved_from == [{tmp_path / "tokenized.tokenizing"}] * 3
    assert not (tmp_path / "tokenized.tokenizing").exists()
    for split in returned.values():
        assert split.cache_files
        assert all(Path(f["filename"]).parent.parent == output for f in split.cache_files)
    dataset = DatasetDict.load_from_disk(str(output))
    assert set(dataset) == {"train", "validation", "test"}
    assert [len(dataset[s]) for s in ("train", "validation", "test")] == [50, 20, 30]
    train = dataset["train"]
    assert set(train.column_names) == {
        "input_ids", "attention_mask", "token_type_ids", "labels", "id", "is_weak_negative",
    }  # fmt: skip
    table = pq.read_table(paths["train"]).to_pydict()
    assert train["id"] == table["id"]
    assert train["labels"] == [int(v) for v in table["label"]]
    assert train["is_weak_negative"] == table["is_weak_negative"]
    assert sum(train["is_weak_negative"]) == 8
    lengths = [len(ids) for ids in train["input_ids"]]
    assert max(lengths) <= 48
    assert len(set(lengths)) > 1, "sequences must not be padded"
    assert all(0 not in ids for ids in train["input_ids"]), "no [PAD] tokens stored"
    saved = AutoTokenizer.from_pretrained(str(output / "tokenizer"))
    assert saved("a b")["input_ids"] == load_tokenizer("builtin:minilm")("a b")["input_ids"]


def test_an_empty_held_out_split_is_left_out(tmp_path):
    """A split definition without holdout gives an empty heldout table: nothing to tokenize."""
    paths = write_tables(tmp_path / "tables", {"train": 5, "validation": 5, "test": 5})
    paths["heldout"] = tmp_path / "tables" / "heldout.parquet"
    pq.write_table(pq.read_table(paths["test"]).slice(0, 0), paths["heldout"])
    tokenize_splits(paths, "builtin:tiny-bert", 32, tmp_path / "out")
    assert set(DatasetDict.load_from_disk(str(tmp_path / "out"))) == {"train", "validation", "test"}


def test_missing_column_names_file_and_column(tmp_path):
    paths = write_tables(tmp_path / "tables", {"train": 5, "validation": 5, "test": 5})
    pq.write_table(pa.table({"id": ["1"], "title": ["t"]}), paths["test"])
    with pytest.raises(ValueError, match=r"test\.parquet: test table lacks column\(s\) abstract"):
        tokenize_splits(paths, "builtin:tiny-bert", 32, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_each_tokenizing_process_reports_its_own_share_of_the_rows():
    from arxivcat.model.tokenize import _share_progress

    shares = [_share_progress("tokenize train", 20_003, 4, rank, 30) for rank in range(4)]
    assert [p.total for p in shares] == [5001, 5001, 5001, 5000]
    assert shares[1].what == "tokenize train [worker 2/4]"
    assert _share_progress("tokenize test", 70, None, None, 30).total == 70
