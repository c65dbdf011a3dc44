"""The splits stage in the workflow's DAG: one assignment per split definition, shared."""

from __future__ import annotations

import pytest
from workflow_runner import planned_jobs, snakemake

from arxivcat import layout


def _plan(workdir, *experiments, config=None):
    tables = (layout.TRAIN_TABLE.format(experiment=name) for name in experiments)
    return planned_jobs(workdir, *tables, config=config)


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


@pytest.mark.e2e
def test_split_without_a_positive_stops_before_tokenizing(tmp_path, shared):
    source = shared / "data" / "arxiv" / "snapshot-sample-2007-cs.AI-100-awalesushil.jsonl"
    config = {
        "snapshot": {"source": str(source)},
        "splits": {"reference": {"min_year": 2007}},
        "experiments": {"ma": {"labels": ["cs.MA"]}},  # one paper of the hundred
        # A model at hand: the probe's embedding of the split runs beside label_splits.
        "training": {"model": "builtin:tiny-bert", "max_length": 32},
    }
    target = layout.CARD.format(experiment="ma")
    result = snakemake(tmp_path, "--", target, config=config, check=False)
    assert result.returncode != 0
    log = (tmp_path / layout.log("label_splits", "ma")).read_text()
    errors = [line for line in log.splitlines() if "has no positive paper" in line]
    assert len(errors) == 1 and "experiment ma: the " in errors[0] and "cs.MA (any)" in errors[0]
    assert "Traceback" not in log
    output = result.stdout + result.stderr
    assert "rule tokenize" not in output and "rule train" not in output
    assert not (tmp_path / layout.TRAIN_TABLE.format(experiment="ma")).parent.exists()
