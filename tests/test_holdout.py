"""The newest papers held out of every split: which, how they are reported, where they land."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest
from splits_fixtures import REFERENCE, assign, labelling, outputs, paper, write_papers

from arxivcat.splits.assign_splits import SplitError
from arxivcat.splits.label_splits import build_experiment_data


def _corpus(tmp_path):
    rows = []
    for i in range(240):
        year = 2015 + i % 10  # 2015-2024
        day = dt.date(year, 1 + i % 12, 1 + i % 28)
        rows.append(paper(f"{year % 100:02d}{i:05d}", ["cs.CV"] if i % 3 else ["math.AG"], year,
                          submitted=day))  # fmt: skip
    return write_papers(rows, tmp_path / "arxiv.parquet")


def test_papers_from_the_date_on_are_held_out_of_every_split(tmp_path):
    corpus = _corpus(tmp_path)
    summary = assign(corpus, {**REFERENCE, "holdout": {"from": "2023-01-01"}},
                     tmp_path / "assignment.parquet")  # fmt: skip
    held = summary["heldout"]
    table = pq.read_table(tmp_path / "assignment.parquet").to_pylist()
    newest = {r["id"] for r in table if r["split"] == "heldout"}
    assert len(newest) == held["papers"] == 48  # 2023 and 2024
    assert all(r["id"][:2] in ("23", "24") for r in table if r["id"] in newest)
    assert not any(r["id"][:2] in ("23", "24") for r in table if r["split"] != "heldout")
    assert held["from"] == "2023-01-01" and held["first_submitted"] >= "2023-01-01"
    assert sum(summary["splits"].values()) == 240 - 48
    paths = outputs(tmp_path)
    paths["output_paths"]["heldout"] = tmp_path / "exp" / "data" / "heldout.parquet"
    report = build_experiment_data(corpus, tmp_path / "assignment.parquet", None, **paths,
                                   experiment="exp", labelling=labelling(["cs.CV"]))  # fmt: skip
    ids = {split: set(pq.read_table(path)["id"].to_pylist())
           for split, path in paths["output_paths"].items()}  # fmt: skip
    assert ids["heldout"] == newest
    for split in ("train", "validation", "test"):
        assert not ids[split] & ids["heldout"], split
    assert report["splits"]["heldout"]["rows"] == 48 and report["heldout"]["papers"] == 48


def test_the_last_months_of_the_snapshot_are_held_out_and_a_time_split_keeps_its_meaning(tmp_path):
    corpus = _corpus(tmp_path)
    settings = {**REFERENCE, "method": "time", "holdout": {"months": 12}}
    summary = assign(corpus, settings, tmp_path / "assignment.parquet")
    newest = max(r["submitted"] for r in pq.read_table(corpus).to_pylist())
    assert summary["heldout"]["from"] == str(newest.replace(year=newest.year - 1))
    # The time split's test papers are the newest of those left, older than every held-out one.
    assert summary["test_from"] < summary["heldout"]["from"]


def test_a_holdout_that_leaves_nothing_fails_in_one_line(tmp_path):
    corpus = _corpus(tmp_path)
    with pytest.raises(SplitError, match="holds out every one of its papers"):
        assign(corpus, {**REFERENCE, "holdout": {"from": "2000-01-01"}},
               tmp_path / "assignment.parquet")  # fmt: skip
