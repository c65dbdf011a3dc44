"""The splits stage on hand-checkable corpora: labels, splits, weak negatives, report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from splits_fixtures import (
    REFERENCE,
    assign,
    labelling,
    outputs,
    paper,
    write_papers,
    write_weak,
)

from arxivcat.config import ConfigError, get_experiment, validate_config
from arxivcat.data.corpus import normalize_record
from arxivcat.keys import title_keys
from arxivcat.splits.assign_splits import SplitError, latest_versions
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.weak_mixing import weak_negative_count

# --- labels -------------------------------------------------------------------------------------


def test_aliases_are_resolved_in_records_and_labels(schema):
    record = normalize_record(
        {"id": "1501.00001v3", "title": "T", "categories": "math.MP cs.SY math-ph stat.TH"}
    )
    assert record["id"] == "1501.00001"
    assert record["categories"] == ["math-ph", "eess.SY", "math.ST"]
    assert record["primary_category"] == "math-ph"
    config = validate_config(
        {"experiments": {"x": {"labels": ["cs.SY", "math.IT", "q-fin.EC", "cs.NA"]}}}, schema
    )
    assert get_experiment(config, "x").labels == ("eess.SY", "cs.IT", "econ.GN", "math.NA")


def test_unknown_label_is_rejected_at_config_time(schema):
    config = {"experiments": {"bad": {"labels": ["cs.CV", "cs.XY"]}}}
    with pytest.raises(ConfigError, match=r"bad\.labels: not arXiv categories: cs\.XY"):
        validate_config(config, schema)


def test_label_mode_and_sample_pct_reach_the_experiment(schema):
    config = validate_config(
        {"experiments": {"a": {"labels": ["cs.CV"]}, "b": {"labels": ["cs.CV"], "sample_pct": 10}}},
        schema,
    )
    assert get_experiment(config, "a").label_mode == "any"
    assert get_experiment(config, "a").sample_pct == 100
    assert get_experiment(config, "b").sample_pct == 10
    with pytest.raises(ConfigError, match="label_mode"):
        validate_config({"experiments": {"a": {"labels": ["cs.CV"], "label_mode": "x"}}}, schema)


def _labels_of(tmp_path, rows, labels, label_mode="any"):
    """The labels of ``rows``' papers, among filler papers that give every split both classes."""
    filler = [paper(f"f{i}", [labels[0]] if i % 2 else ["hep-th"]) for i in range(40)]
    corpus = write_papers(rows + filler, tmp_path / "arxiv.parquet")
    assign(corpus, REFERENCE, tmp_path / "assignment.parquet", name="s")
    paths = outputs(tmp_path)
    build_experiment_data(
        corpus,
        tmp_path / "assignment.parquet",
        None,
        **paths,
        experiment="exp",
        labelling=labelling(labels, label_mode=label_mode),
    )
    table = pa.concat_tables(pq.read_table(p) for p in paths["output_paths"].values())
    labelled = zip(table["id"].to_pylist(), table["label"].to_pylist(), strict=True)
    return {paper_id: label for paper_id, label in labelled if not paper_id.startswith("f")}


def test_any_listed_category_makes_a_positive_and_primary_mode_needs_the_first(tmp_path):
    rows = [
        paper("1", ["cs.CV"]),
        paper("2", ["cs.LG", "cs.CV"]),
        paper("3", ["cs.LG", "stat.ML"]),
        paper("4", ["math-ph", "eess.SY"]),
    ]
    assert _labels_of(tmp_path, rows, ["cs.CV"]) == {"1": 1, "2": 1, "3": 0, "4": 0}
    assert _labels_of(tmp_path, rows, ["cs.CV"], "primary") == {"1": 1, "2": 0, "3": 0, "4": 0}
    assert _labels_of(tmp_path, rows, ["eess.SY", "stat.ML"]) == {"1": 0, "2": 0, "3": 1, "4": 1}


def test_versions_collapse_to_the_latest_update(tmp_path):
    rows = [
        paper("1", ["cs.LG"], updated=dt.date(2015, 3, 1)),
        paper("2", ["cs.CV"]),
        paper("1", ["cs.CV", "cs.LG"], updated=dt.date(2016, 5, 1)),  # newer version: now cs.CV
        paper("1", ["cs.LG"], updated=dt.date(2015, 9, 1)),
    ]
    assert _labels_of(tmp_path, rows, ["cs.CV"]) == {"1": 1, "2": 1}
    summary = assign(write_papers(rows, tmp_path / "v.parquet"), REFERENCE, tmp_path / "a.parquet")
    assert summary["duplicates_collapsed"] == 2
    assert summary["papers"] == 2
    ids = pa.array(["b", "a", "b", "a"])
    updated = pa.array([dt.date(2020, 1, 1), None, dt.date(2021, 1, 1), dt.date(2019, 1, 1)])
    assert latest_versions(ids, updated).tolist() == [2, 3]


# --- splits -------------------------------------------------------------------------------------


def _assignment(path):
    table = pq.read_table(path)
    return dict(zip(table["id"].to_pylist(), table["split"].to_pylist(), strict=True))


def test_year_filter_keeps_min_year_and_later(tmp_path):
    rows = [paper("a", ["cs.CV"], 2009), paper("b", ["cs.CV"], 2010), paper("c", ["cs.CV"], 2024)]
    rows.append(paper("d", ["cs.CV"], None))
    corpus = write_papers(rows, tmp_path / "arxiv.parquet")
    summary = assign(corpus, REFERENCE, tmp_path / "a.parquet")
    assert sorted(_assignment(tmp_path / "a.parquet")) == ["b", "c"]
    assert summary["dropped_by_year"] == 2


def _stratified_corpus(sizes: dict[str, int], seed: int = 1) -> list[dict]:
    rows = []
    generator = random.Random(seed)
    for category, size in sizes.items():
        rows += [paper(f"{category}-{i:05d}", [category]) for i in range(size)]
    generator.shuffle(rows)
    return rows


def test_fractions_and_stratification_within_one_point(tmp_path):
    sizes = {"cs.CV": 1000, "cs.LG": 600, "math.ST": 330, "hep-th": 67, "cs.RO": 3}
    corpus = write_papers(_stratified_corpus(sizes), tmp_path / "arxiv.parquet")
    summary = assign(corpus, REFERENCE, tmp_path / "a.parquet")
    assert summary["splits"] == pytest.approx(
        {"train": 1400, "validation": 300, "test": 300}, abs=3
    )
    assignment = _assignment(tmp_path / "a.parquet")
    for category, size in sizes.items():
        got = [s for i, s in assignment.items() if i.startswith(category + "-")]
        for split, share in REFERENCE["fractions"].items():
            # Systematic sampling within each category: floor or ceil of the exact share.
            assert abs(got.count(split) - share * size) < 1, (category, split)
            if size >= 100:
                assert abs(got.count(split) / size - share) <= 0.01


def test_same_config_gives_byte_identical_files_whatever_the_row_order(tmp_path):
    rows = _stratified_corpus({"cs.CV": 300, "cs.LG": 200})
    first = write_papers(rows, tmp_path / "one.parquet")
    second = write_papers(list(reversed(rows)), tmp_path / "two.parquet")
    assign(first, REFERENCE, tmp_path / "a1.parquet")
    assign(first, REFERENCE, tmp_path / "a2.parquet")
    assign(second, REFERENCE, tmp_path / "a3.parquet")
    assign(first, {**REFERENCE, "seed": 7}, tmp_path / "a4.parquet")
    data = [(tmp_path / f"a{i}.parquet").read_bytes() for i in range(1, 5)]
    assert data[0] == data[1] == data[2]
    assert _assignment(tmp_path / "a1.parquet") != _assignment(tmp_path / "a4.parquet")


def test_hash_split_is_stable_when_records_are_appended(tmp_path):
    settings = {**REFERENCE, "method": "hash"}
    rows = [paper(f"15{i:02d}.{i:05d}", ["cs.CV"]) for i in range(2000)]
    extra = [paper(f"23{i % 12:02d}.{i:05d}", ["cs.LG"], 2023) for i in range(1000)]
    assign(write_papers(rows, tmp_path / "old.parquet"), settings, tmp_path / "old-a.pq")
    grown = write_papers(rows + extra, tmp_path / "new.parquet")
    assign(grown, settings, tmp_path / "new-a.pq")
    old, new = _assignment(tmp_path / "old-a.pq"), _assignment(tmp_path / "new-a.pq")
    assert len(new) == 3000
    assert {i: new[i] for i in old} == old
    shares = [list(new.values()).count(s) / 3000 for s in ("train", "validation", "test")]
    assert shares == pytest.approx([0.7, 0.15, 0.15], abs=0.03)
    # The seed is the hash key: another seed gives another split.
    assign(grown, {**settings, "seed": 1}, tmp_path / "other-a.pq")
    assert _assignment(tmp_path / "other-a.pq") != new


def test_time_split_tests_on_newer_papers(tmp_path):
    start = dt.date(2015, 1, 1)
    rows = [
        paper(f"p{i:04d}", ["cs.CV" if i % 3 else "cs.LG"], submitted=start + dt.timedelta(i))
        for i in range(1000)
    ]
    for row in rows:
        row["year"] = row["submitted"].year
    corpus = write_papers(rows, tmp_path / "arxiv.parquet")
    summary = assign(corpus, {**REFERENCE, "method": "time"}, tmp_path / "a.parquet")
    assert summary["test_from"] == (start + dt.timedelta(850)).isoformat()
    assert summary["splits"] == {"train": 700, "validation": 150, "test": 150}
    assignment = _assignment(tmp_path / "a.parquet")
    submitted = {r["id"]: r["submitted"] for r in rows}
    newest_older = max(submitted[i] for i, s in assignment.items() if s != "test")
    oldest_test = min(submitted[i] for i, s in assignment.items() if s == "test")
    assert newest_older < oldest_test


def test_time_split_that_cannot_separate_fails_clearly(tmp_path):
    corpus = write_papers([paper(str(i), ["cs.CV"], 2020) for i in range(10)], tmp_path / "c.pq")
    with pytest.raises(SplitError, match="nothing left to train on"):
        assign(corpus, {**REFERENCE, "method": "time"}, tmp_path / "a.parquet")


# --- experiment tables and weak negatives ------------------------------------------------------


def _fixture(tmp_path):
    """200 papers from 2015 (one category: 140/30/30 exactly), 3 papers from 2005 (dropped).

    Half of the 2015 papers are cs.CV. Weak-negative candidates: 26 clean ones, and five that
    must never be used (arXiv DOI, corpus DOI, corpus title, title of a 2005 arXiv paper,
    repeated id, no title).
    """
    rows = [
        paper(
            f"1501.{i:05d}",
            ["cs.CV" if i % 2 else "cs.LG"],
            title=f"Study number {i}",
            doi=f"10.1000/arx.{i}" if i < 5 else None,
        )
        for i in range(200)
    ]
    rows += [paper(f"old/{i:07d}", ["cs.LG"], 2005, title=f"Old paper {i}") for i in range(3)]
    corpus = write_papers(rows, tmp_path / "arxiv.parquet")
    weak = [{"id": f"W{i:03d}", "title": f"Clean work {i}"} for i in range(26)]
    weak += [
        {"id": "W900", "title": "Preprint mirror", "doi": "10.48550/arXiv.1501.00007"},
        {"id": "W901", "title": "Published version", "doi": "https://doi.org/10.1000/ARX.3"},
        {"id": "W902", "title": "STUDY number 12!"},
        {"id": "W903", "title": "Old  paper 1."},
        {"id": "W000", "title": "A repeated id"},
        {"id": "W904", "title": " ?! "},
    ]
    write_weak(weak, tmp_path / "weak.parquet")
    assign(corpus, REFERENCE, tmp_path / "assignment.parquet", name="reference")
    return corpus


def _build(tmp_path, name="exp", labels=("cs.CV",), share=0.0, sample_pct=100, **kwargs):
    paths = outputs(tmp_path, name)
    report = build_experiment_data(
        tmp_path / "arxiv.parquet",
        tmp_path / "assignment.parquet",
        tmp_path / "weak.parquet" if share else None,
        **paths,
        experiment=name,
        labelling=labelling(labels, share, sample_pct=sample_pct),
        **kwargs,
    )
    tables = {s: pq.read_table(p) for s, p in paths["output_paths"].items()}
    return report, tables, paths


def test_weak_negatives_only_in_train_with_label_zero_at_the_share(tmp_path):
    _fixture(tmp_path)
    report, tables, _ = _build(tmp_path, share=0.1)
    train = tables["train"]
    weak = train.filter(train["is_weak_negative"])
    assert weak.num_rows == 14  # floor(0.1 * 140)
    assert train.num_rows == 154
    assert set(weak["label"].to_pylist()) == {0}
    assert set(weak["id"].to_pylist()) <= {f"W{i:03d}" for i in range(26)}
    assert weak["primary_category"].null_count == 14
    for split in ("validation", "test"):
        assert not any(tables[split]["is_weak_negative"].to_pylist())
        assert tables[split].num_rows == 30
    assert report["weak_negatives"] == 14
    assert report["weak_negative_pool"] == {
        "wanted": 14,
        "offered": 32,
        "removed_untitled": 1,
        "removed_as_arxiv": 4,
        "removed_as_repeats": 1,
        "available": 26,
    }


def test_weak_negative_sample_is_seeded(tmp_path):
    _fixture(tmp_path)
    _, first, paths = _build(tmp_path, "a", share=0.1)
    _, second, _ = _build(tmp_path, "b", share=0.1)
    assert first["train"].equals(second["train"])
    assert (
        paths["output_paths"]["train"].read_bytes()
        == (tmp_path / "b" / "data" / "train.parquet").read_bytes()
    )


def test_exact_weak_negative_arithmetic():
    # The reference: 10% of 1,093,647 training papers. floor(109,364.7) = 109,364; the reference
    # reported 1,203,010 rows (109,363 added), one fewer than floor and two fewer than round.
    assert weak_negative_count(1_093_647, 0.10) == 109_364
    assert weak_negative_count(140, 0.1) == 14
    assert weak_negative_count(100, 0.29) == 29  # 0.29 * 100 == 28.999999999999996 in floats
    assert weak_negative_count(9, 0.1) == 0


def test_no_paper_in_two_splits_and_every_assigned_paper_used(tmp_path):
    _fixture(tmp_path)
    _, tables, _ = _build(tmp_path, share=0.1)
    ids = {s: set(t["id"].to_pylist()) for s, t in tables.items()}
    assert not ids["train"] & ids["validation"]
    assert not ids["train"] & ids["test"]
    assert not ids["validation"] & ids["test"]
    arxiv = set().union(*ids.values()) - {f"W{i:03d}" for i in range(26)}
    assert arxiv == set(_assignment(tmp_path / "assignment.parquet"))
    assert all(len(i) == 10 for i in arxiv)  # the 2005 papers are not used


def test_split_report_numbers(tmp_path):
    corpus = _fixture(tmp_path)
    report, tables, paths = _build(tmp_path, share=0.1)
    assert json.loads(paths["report_path"].read_text()) == report
    assert report["experiment"] == "exp"
    assert report["labels"] == ["cs.CV"]
    assert report["split"] == "reference"
    assert report["split_settings"] == REFERENCE
    assert report["year_range"] == [2015, 2015]
    assert report["weak_negative_share"] == 0.1
    assert report["snapshot_sha256"] == hashlib.sha256(corpus.read_bytes()).hexdigest()
    digest = tmp_path / "arxiv.sha256"
    digest.write_text("ab" * 32 + "\n")
    again, _, _ = _build(tmp_path, "again", share=0.1, digest_path=digest)
    assert again["snapshot_sha256"] == "ab" * 32
    for split, table in tables.items():
        stats = report["splits"][split]
        assert stats["rows"] == table.num_rows
        assert stats["positives"] == sum(table["label"].to_pylist())
        assert stats["positive_rate"] == pytest.approx(stats["positives"] / stats["rows"], abs=1e-6)
    assert report["splits"]["train"]["papers"] == 140
    assert report["splits"]["train"]["weak_negatives"] == 14
    total_positives = sum(report["splits"][s]["positives"] for s in report["splits"])
    assert total_positives == 100
    assert report["top_primary_categories"] == [["cs.CV", 100], ["cs.LG", 100]]


def test_sample_pct_subsamples_training_papers_only(tmp_path):
    _fixture(tmp_path)
    report, tables, _ = _build(tmp_path, share=0.1, sample_pct=10)
    assert report["splits"]["train"]["papers"] == 14
    assert report["splits"]["train"]["weak_negatives"] == 1
    assert tables["validation"].num_rows == tables["test"].num_rows == 30
    _, again, _ = _build(tmp_path, "again", share=0.1, sample_pct=10)
    assert tables["train"].equals(again["train"])


def test_labels_matching_no_paper_fail_with_labels_and_corpus_size(tmp_path):
    _fixture(tmp_path)
    with pytest.raises(SplitError, match=r"labels hep-th, gr-qc .*none of the 200 papers.*203"):
        _build(tmp_path, labels=("hep-th", "gr-qc"))


def test_weak_negatives_asked_for_but_empty_or_too_few(tmp_path):
    _fixture(tmp_path)
    write_weak([], tmp_path / "weak.parquet")
    with pytest.raises(SplitError, match="no weak negatives"):
        _build(tmp_path, share=0.1)
    write_weak([{"id": "W1", "title": "x"}], tmp_path / "weak.parquet")
    with pytest.raises(SplitError, match=r"14 weak negatives needed.*only 1 of 1 are usable"):
        _build(tmp_path, share=0.1)
    assert not (tmp_path / "exp" / "data" / "train.parquet").exists()


def test_assignment_from_another_corpus_is_refused(tmp_path):
    _fixture(tmp_path)
    write_papers([paper("1501.00001", ["cs.CV"])], tmp_path / "arxiv.parquet")
    with pytest.raises(SplitError, match="199 of its 200 ids are not in"):
        _build(tmp_path)


def test_title_normalization_ignores_case_accents_and_punctuation():
    titles = pa.array(["Deep  Learning: A Survey!", "deep-learning a survey", "Ｄeep Léarning"])
    assert title_keys(titles).to_pylist() == [
        "deeplearningasurvey",
        "deeplearningasurvey",
        "deepléarning",
    ]


def test_every_experiment_of_a_split_sees_the_same_papers(tmp_path):
    _fixture(tmp_path)
    _, cv, _ = _build(tmp_path, "cv", labels=("cs.CV",))
    _, lg, _ = _build(tmp_path, "lg", labels=("cs.LG",))
    for split in cv:
        assert cv[split]["id"].equals(lg[split]["id"])
        assert np.array_equal(np.asarray(cv[split]["label"]), 1 - np.asarray(lg[split]["label"]))


# --- doomed experiments stop at labelling --------------------------------------------------------


def _rare_label_corpus(tmp_path):
    """100 papers of cs.CV/cs.LG, one of which is cross-listed in cs.RO; and its assignment."""
    rows = [paper(f"1501.{i:05d}", ["cs.CV" if i % 2 else "cs.LG"]) for i in range(100)]
    rows[7]["categories"] = ["cs.CV", "cs.RO"]
    write_papers(rows, tmp_path / "arxiv.parquet")
    assign(tmp_path / "arxiv.parquet", REFERENCE, tmp_path / "assignment.parquet", "reference")
    return _assignment(tmp_path / "assignment.parquet")["1501.00007"]


def test_split_without_a_positive_stops_labelling_in_one_line(tmp_path):
    home = _rare_label_corpus(tmp_path)
    first_without = "validation" if home == "train" else "train"
    with pytest.raises(SplitError) as info:
        _build(tmp_path, "ro", labels=("cs.RO",))
    message = str(info.value)
    assert message == (
        f"experiment ro: the {first_without} split (of split 'reference') has no positive paper "
        f"for labels cs.RO (any); 0 of its {15 if first_without == 'validation' else 70} papers "
        "are positive"
    )
    assert not (tmp_path / "ro" / "data").exists()  # nothing half-written


def test_split_without_a_negative_stops_labelling(tmp_path):
    _rare_label_corpus(tmp_path)
    with pytest.raises(SplitError, match=r"^experiment all: the train split .* no negative paper"):
        _build(tmp_path, "all", labels=("cs.CV", "cs.LG"))
    assert not (tmp_path / "all" / "data").exists()
