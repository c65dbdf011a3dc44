"""The predict command refuses, in one line and before any scoring, what would destroy or garble:
an output that is an input or cannot be written, numbers outside the schema's bounds, thresholds
that are not probabilities, and model folders that cannot be loaded."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from predict_fixtures import packaged_folder

from arxivcat import config
from arxivcat.cli import main

PAPERS = pa.table(
    {"id": ["x1", "x2"], "title": ["Depth from images", "Prime gaps"], "abstract": ["A.", "B."]}
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return packaged_folder(tmp_path_factory.mktemp("predict-command"))


@pytest.fixture()
def corpus(tmp_path) -> Path:
    pq.write_table(PAPERS, tmp_path / "papers.parquet")
    return tmp_path / "papers.parquet"


def predict(capsys, model: Path, source: str | Path, output: str | Path, *options: str):
    """Run ``arxivcat predict``; return its exit status and its stderr lines."""
    argv = ["predict", "--model", str(model), "--input", str(source), "--output", str(output)]
    status = main([*argv, "--device", "cpu", *options])
    return status, capsys.readouterr().err.strip().splitlines()


def assert_refused(status: int, lines: list[str], message: str) -> None:
    """Failed in one line holding ``message``: no other line, so no model loaded, no progress."""
    assert status == 1, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("arxivcat predict: error: ") and message in lines[0], lines


@pytest.mark.parametrize("how", ["same path", "relative path", "symlink", "glob"])
def test_an_output_that_is_an_input_is_refused_and_the_corpus_kept(
    folder, corpus, tmp_path, capsys, monkeypatch, how
):
    before = corpus.read_bytes()
    monkeypatch.chdir(tmp_path)
    source, output = {
        "same path": (corpus, corpus),
        "relative path": ("papers.parquet", Path("sub") / ".." / "papers.parquet"),
        "symlink": (tmp_path / "link.parquet", corpus),
        "glob": (tmp_path / "*.parquet", corpus),
    }[how]
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.parquet").symlink_to(corpus)
    status, lines = predict(capsys, folder, source, output)
    assert_refused(status, lines, "is also an input")
    assert corpus.read_bytes() == before


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("{tmp}/dir.parquet", "{tmp}/dir.parquet: is a directory, not a file to write"),
        ("{tmp}/papers.parquet/scores.parquet", "cannot write: {tmp}/papers.parquet is not a folder"),
        ("/sys/scores.parquet", "/sys/scores.parquet: cannot write"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_scoring(
    folder, corpus, tmp_path, capsys, output, message
):
    output = output.format(tmp=tmp_path / "out")
    (tmp_path / "out" / "dir.parquet").mkdir(parents=True)
    shutil.copy(corpus, tmp_path / "out" / "papers.parquet")
    status, lines = predict(capsys, folder, corpus, output)
    assert_refused(status, lines, message.format(tmp=tmp_path / "out"))


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--batch-size", "-5", "--batch-size: -5 is less than the minimum of 1"),
        ("--batch-size", "0", "--batch-size: 0 is less than the minimum of 1"),
        ("--chunk-rows", "0", "--chunk-rows: 0 is less than the minimum of 1"),
        ("--gpus", "0", "--gpus: 0 is less than the minimum of 1"),
        ("--threshold", "1.5", "--threshold: 1.5 is greater than or equal to the maximum of 1"),
        ("--threshold", "0", "--threshold: 0.0 is less than or equal to the minimum of 0"),
        ("--threshold", "nan", "--threshold: nan is not a number"),
        ("--threshold", "inf", "--threshold: inf is greater than or equal to the maximum of 1"),
        ("--progress-seconds", "-1", "--progress-seconds: -1.0 is less than or equal to"),
    ],
)
def test_numbers_are_refused_outside_the_schemas_bounds(
    folder, corpus, tmp_path, capsys, option, value, message
):
    output = tmp_path / "scores.parquet"
    status, lines = predict(capsys, folder, corpus, output, option, value)
    assert_refused(status, lines, message)
    assert not output.exists()


def test_the_bounds_are_read_from_the_schema(folder, corpus, tmp_path, capsys, monkeypatch):
    schema = copy.deepcopy(config.load_schema())
    schema["properties"]["predict"]["properties"]["batch_size"]["minimum"] = 10
    monkeypatch.setattr(config, "load_schema", lambda: schema)
    status, lines = predict(capsys, folder, corpus, tmp_path / "s.parquet", "--batch-size", "5")
    assert_refused(status, lines, "--batch-size: 5 is less than the minimum of 10")
