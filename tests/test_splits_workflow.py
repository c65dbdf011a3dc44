"""The splits stage in the workflow's DAG: one assignment per split definition, shared."""

from __future__ import annotations

from workflow_runner import planned_jobs

TABLES = "results/{}/data/train.parquet"


def _plan(workdir, *experiments, config=None):
    return planned_jobs(workdir, *(TABLES.format(e) for e in experiments), config=config)


def test_experiments_sharing_a_split_do_not_resplit(tmp_path):
    jobs = _plan(tmp_path, "cv-32", "nlp-32", "ai-32")
    assert jobs["assign_splits"] == 1
    assert jobs["label_splits"] == 3


def test_each_split_definition_is_assigned_once(tmp_path):
    config = {
        "splits": {"newer": {"min_year": 2015, "method": "hash"}},
        "experiments": {"cv-newer": {"labels": ["cs.CV"], "split": "newer"}},
    }
    jobs = _plan(tmp_path, "cv-32", "nlp-32", "cv-newer", config=config)
    assert jobs["assign_splits"] == 2
    assert jobs["label_splits"] == 3
