"""The predict command refuses, in one line and before any scoring, what would destroy or garble:
an output that is an input or cannot be written, numbers outside the schema's bounds, thresholds
that are not probabilities, and model folders that cannot be loaded."""

from __future__ import annotations

import copy
import json
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
        ("{tmp}/papers.parquet/s.parquet", "cannot write: {tmp}/papers.parquet is not a folder"),
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


def edited_folder(folder: Path, tmp_path: Path, name: str, change) -> Path:
    """A copy of ``folder`` with ``change(path)`` applied to its file ``name``."""
    copy_dir = tmp_path / "hub"
    shutil.copytree(folder, copy_dir)
    change(copy_dir / name)
    return copy_dir


def rewrite_json(**values):
    def change(path: Path) -> None:
        record = json.loads(path.read_text())
        for key, value in values.items():
            if value is None:
                record.pop(key)
            else:
                record[key] = value
        path.write_text(json.dumps(record))

    return change


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "threshold: 1.5 is not a probability strictly between 0 and 1"),
        (float("nan"), "threshold: nan is not a probability strictly between 0 and 1"),
        (0, "threshold: 0 is not a probability strictly between 0 and 1"),
        ("0.7", "threshold: '0.7' is not a number"),
    ],
)
def test_a_hand_edited_folder_threshold_is_refused(
    folder, corpus, tmp_path, capsys, value, message
):
    model = edited_folder(folder, tmp_path, "arxivcat.json", rewrite_json(threshold=value))
    status, lines = predict(capsys, model, corpus, tmp_path / "scores.parquet")
    assert_refused(status, lines, f"{model / 'arxivcat.json'}: {message}")


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def only_pickled_weights(path: Path) -> None:
    path.rename(path.with_name("pytorch_model.bin"))


def another_architecture(path: Path) -> None:
    record = json.loads(path.read_text())
    record.update(model_type="vit", architectures=["ViTForImageClassification"])
    path.write_text(json.dumps(record))


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("model.safetensors", truncate, "model.safetensors: incomplete or corrupt weights"),
        ("model.safetensors", only_pickled_weights, "no model.safetensors"),
        ("config.json", another_architecture, "config.json: a 'vit' model is not a text"),
        ("config.json", lambda p: p.write_text("{not json"), "config.json: not JSON"),
        ("arxivcat.json", lambda p: p.write_text("[1, 2"), "arxivcat.json: not JSON"),
        ("arxivcat.json", lambda p: p.write_text("[1, 2]"), "arxivcat.json: not a JSON object"),
        ("arxivcat.json", rewrite_json(max_length="long"), "max_length: 'long' is not a whole"),
        ("arxivcat.json", rewrite_json(threshold=None), "arxivcat.json: no threshold"),
        ("arxivcat.json", rewrite_json(max_length=None), "arxivcat.json: no max_length"),
    ],
)
def test_a_damaged_model_folder_fails_in_one_line_naming_the_file(
    folder, corpus, tmp_path, capsys, name, change, message
):
    model = edited_folder(folder, tmp_path, name, change)
    status, lines = predict(capsys, model, corpus, tmp_path / "scores.parquet")
    assert_refused(status, lines, message)
    assert str(model) in lines[0]
    assert not (tmp_path / "scores.parquet").exists()


def test_a_config_that_does_not_fit_the_weights_fails_without_a_traceback(
    folder, corpus, tmp_path, capsys
):
    model = edited_folder(folder, tmp_path, "config.json", rewrite_json(hidden_size=64))
    status, lines = predict(capsys, model, corpus, tmp_path / "scores.parquet")
    assert status == 1
    # transformers prints its table of mismatched shapes first; the error is the last line.
    assert lines[-1].startswith(f"arxivcat predict: error: {model}: cannot load the model (")
    assert not any("Traceback" in line for line in lines)


@pytest.mark.parametrize("value", [1.5, -0.2, float("nan"), None])
def test_the_rules_threshold_json_is_checked_too(folder, corpus, tmp_path, value):
    """The predict rule labels at results/<experiment>/threshold.json (choose_threshold's)."""
    from arxivcat.config import schema_defaults
    from arxivcat.predict.model_folder import ModelFolderError
    from arxivcat.predict.predict import predict_corpus
    from arxivcat.predict.settings import PredictSettings

    threshold = tmp_path / "threshold.json"
    threshold.write_text(json.dumps({} if value is None else {"threshold": value}))
    settings = PredictSettings.from_dict({**schema_defaults("predict"), "device": "cpu"})
    expected = "no threshold" if value is None else "is not a probability strictly between"
    with pytest.raises(ModelFolderError, match=rf"^{threshold}: .*{expected}"):
        predict_corpus(
            folder, [corpus], tmp_path / "out.parquet", tmp_path / "store", settings,
            threshold_path=threshold,
        )  # fmt: skip
    assert not (tmp_path / "out.parquet").exists()
