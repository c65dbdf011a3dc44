"""The splits stage on the 3,200 real arXiv records and real OpenAlex works in ../shared."""

from __future__ import annotations

import itertools

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from splits_fixtures import REFERENCE, assign, labelling, openalex_weak_table

from arxivcat.config import get_experiment
from arxivcat.data.corpus import normalized_records
from arxivcat.data.corpus_table import write_corpus
from arxivcat.keys import title_keys
from arxivcat.splits.label_splits import build_experiment_data
from arxivcat.splits.weak_mixing import weak_negative_count


@pytest.fixture(scope="module")
def real(shared, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("real-splits")
    files = sorted((shared / "data" / "arxiv").glob("*.jsonl"))
    corpus = workdir / "arxiv.parquet"
    write_corpus(itertools.chain.from_iterable(map(normalized_records, files)), corpus)
    weak = workdir / "weak.parquet"
    pq.write_table(openalex_weak_table(shared / "data" / "openalex" / "api"), weak)
    return workdir, corpus, weak


def _build(workdir, corpus, weak, config, name, min_year):
    experiment = get_experiment(config, name)
    assignment = workdir / f"split-{min_year}.parquet"
    summary = assign(corpus, {**REFERENCE, "min_year": min_year}, assignment, "reference")
    base = workdir / f"{name}-{min_year}"
    paths = {s: base / f"{s}.parquet" for s in ("train", "validation", "test")}
    report = build_experiment_data(
        corpus,
        assignment,
        weak if experiment.weak_negatives else None,
        paths,
        base / "split_report.json",
        experiment=name,
        labelling=labelling(
            experiment.labels,
            experiment.weak_negatives,
            experiment.label_mode,
            experiment.sample_pct,
        ),
    )
    return summary, report, {s: pq.read_table(p) for s, p in paths.items()}


def test_reference_year_filter_drops_the_2007_records(real, default_config):
    summary, report, tables = _build(*real, default_config, "cv-32", 2010)
    assert summary["corpus_rows"] == 3200
    assert summary["papers"] == 2100
    assert summary["duplicates_collapsed"] + summary["dropped_by_year"] == 1100
    assert report["year_range"][0] >= 2010
    assert sum(t.num_rows for t in tables.values()) == 2100
    assert report["splits"]["train"]["positives"] > 0


def test_ai_weak_negatives_on_real_data(real, default_config):
    corpus = real[1]
    _, report, tables = _build(*real, default_config, "ai-full-weak-negs", 2007)
    train = tables["train"]
    weak = train.filter(train["is_weak_negative"])
    papers = report["splits"]["train"]["papers"]
    assert weak.num_rows == weak_negative_count(papers, 0.1) == papers // 10
    assert set(weak["label"].to_pylist()) == {0}
    for split in ("validation", "test"):
        assert not any(tables[split]["is_weak_negative"].to_pylist())
    # ELMo is both an OpenAlex work and an arXiv record of the sample: never a negative.
    assert report["weak_negative_pool"]["removed_as_arxiv"] >= 1
    arxiv_titles = set(title_keys(pq.read_table(corpus)["title"]).to_pylist())
    assert not arxiv_titles & set(title_keys(weak["title"]).to_pylist())
    ids = [set(t["id"].to_pylist()) for t in tables.values()]
    assert sum(map(len, ids)) == len(set().union(*ids))


def test_experiments_of_one_split_share_the_papers_and_strata_hold(real, default_config):
    _, _, ai = _build(*real, default_config, "ai-full-weak-negs", 2007)
    _, _, cv = _build(*real, default_config, "cv-32", 2007)
    for split in ("validation", "test"):
        assert ai[split]["id"].equals(cv[split]["id"])
    arxiv_train = ai["train"].filter(pa.compute.invert(ai["train"]["is_weak_negative"]))
    assert arxiv_train["id"].equals(cv["train"]["id"])
    total = sum(t.num_rows for t in cv.values())
    for category in ("cs.CV", "cs.LG", "cs.CL", "astro-ph"):
        counts = {
            s: t.filter(pa.compute.equal(t["primary_category"], category)).num_rows
            for s, t in cv.items()
        }
        size = sum(counts.values())
        assert size >= 100, (category, size, total)
        assert abs(counts["train"] / size - 0.7) <= 0.01, (category, counts)
