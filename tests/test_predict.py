"""The predict stage on the tiny model: generated and real corpora, rows without text, progress
lines, kill-and-resume with a byte-identical result, the joined table and the command line."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from chunk_kill import killing_child
from predict_fixtures import packaged_folder

from arxivcat.cli import main
from arxivcat.config import schema_defaults
from arxivcat.predict.join_predictions import JoinError, join_predictions
from arxivcat.predict.model_folder import read_folder_info
from arxivcat.predict.predict import predict_corpus
from arxivcat.predict.scoring_job import PredictError
from arxivcat.predict.settings import PredictSettings
from arxivcat.synthetic.generate import write_snapshot

CHUNK = 50


def settings(**overrides) -> PredictSettings:
    base = {**schema_defaults("predict"), "device": "cpu", "chunk_rows": CHUNK, "batch_size": 16}
    return PredictSettings.from_dict({**base, **overrides})


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return packaged_folder(tmp_path_factory.mktemp("predict"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "generated.jsonl"
    write_snapshot(path, 260, seed=5)
    return path


def test_generated_corpus_with_progress_and_rows_without_text(folder, corpus, tmp_path, caplog):
    lines = corpus.read_text().splitlines()
    holes = [json.loads(line) for line in lines[:3]]
    holes[0]["abstract"], holes[1]["title"], holes[2]["abstract"] = "", "  ", None
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join([json.dumps(h) for h in holes] + lines[3:]) + "\n")
    with caplog.at_level(logging.INFO, logger="arxivcat"):
        manifest = predict_corpus(
            folder, [source], tmp_path / "out.parquet", tmp_path / "store",
            settings(progress_seconds=1e-9), tmp_path / "out.json", name="predict cv-32",
        )  # fmt: skip
    table = pq.read_table(tmp_path / "out.parquet")
    assert table.column_names == ["id", "probability", "label"]
    assert table.num_rows == 260 and table.num_columns == 3
    assert table.column("id").to_pylist() == [json.loads(line)["id"] for line in lines]
    rows = table.to_pylist()
    assert [r["probability"] for r in rows[:3]] == [None, None, None]
    threshold = read_folder_info(folder).threshold
    assert all((r["probability"] > threshold) == r["label"] for r in rows[3:])
    assert all(0 < r["probability"] < 1 for r in rows[3:])
    assert manifest["without_text"] == 3 and manifest["scored"] == 257
    assert manifest["threshold"] == threshold
    assert json.loads((tmp_path / "out.json").read_text()) == manifest
    assert not (tmp_path / "store").exists()
    progress = [r.getMessage() for r in caplog.records if "rows/s" in r.getMessage()]
    assert len(progress) >= 260 // CHUNK
    assert "predict cv-32: 50/260 rows (19.2%)" in progress[0] and "ETA" in progress[0]
    assert "(100.0%)" in progress[-1]
    assert any("3 of 260 papers have no title or no abstract" in r.getMessage()
               for r in caplog.records)  # fmt: skip


def test_real_records_and_threshold_setting(folder, shared, tmp_path):
    source = shared / "data" / "arxiv" / "snapshot-sample-2007-cs.AI-100-awalesushil.jsonl"
    out = tmp_path / "real.parquet"
    predict_corpus(folder, [source], out, tmp_path / "store", settings(threshold=0.25))
    table = pq.read_table(out).to_pylist()
    assert len(table) == 100 and len({r["id"] for r in table}) == 100
    assert all(r["label"] == (r["probability"] > 0.25) for r in table)


# The child process: predict, and SIGKILL itself once chunk KILL_AFTER is saved.
CHILD = killing_child("""
import json, logging
logging.basicConfig(level=logging.INFO)
from arxivcat.predict import predict
from arxivcat.predict.settings import PredictSettings
folder, source, output, store, settings = sys.argv[1:6]
predict.predict_corpus(folder, [source], output, store,
                       PredictSettings.from_dict(json.loads(settings)))
""")


def run_child(folder: Path, source: Path, output: Path, store: Path, kill_after: int = -1):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(source), str(output), str(store),
         json.dumps(settings().to_dict()), str(kill_after)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip


def test_killed_job_resumes_at_its_last_chunk_byte_identical(folder, corpus, tmp_path):
    reference = tmp_path / "reference.parquet"
    predict_corpus(folder, [corpus], reference, tmp_path / "store-reference", settings())

    output, store = tmp_path / "out.parquet", tmp_path / "store"
    killed = run_child(folder, corpus, output, store, kill_after=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not output.exists()
    assert sorted(p.name for p in store.glob("chunk-*")) == [
        "chunk-00000.parquet", "chunk-00001.parquet", "chunk-00002.parquet"
    ]  # fmt: skip
    resumed = run_child(folder, corpus, output, store)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "RESUMING: 3 finished chunk(s)" in resumed.stderr
    assert output.read_bytes() == reference.read_bytes()
    assert pq.ParquetFile(output).metadata.num_row_groups == 6
    assert not store.exists()


def test_two_processes_resume_any_finished_chunks_and_write_the_same_bytes(
    folder, corpus, tmp_path
):
    """The spread over processes (one per GPU on CUDA; here two on the CPU)."""
    reference = tmp_path / "reference.parquet"
    predict_corpus(folder, [corpus], reference, tmp_path / "store-reference", settings())
    output, store = tmp_path / "out.parquet", tmp_path / "store"
    killed = run_child(folder, corpus, output, store, kill_after=2)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    (store / "chunk-00001.parquet").unlink()  # chunks 0 and 2 finished, 1 not
    manifest = predict_corpus(folder, [corpus], output, store, settings(), processes=2)
    assert output.read_bytes() == reference.read_bytes()
    assert manifest["processes"] == 2 and manifest["resumed_chunks"] == 2
    assert manifest["device"] == "cpu" and manifest["papers"] == 260
    assert not store.exists()


def test_a_failing_process_stops_the_job_in_one_line(folder, corpus, tmp_path):
    lines = corpus.read_text().splitlines()
    hole = json.loads(lines[CHUNK + 1])  # in chunk 1: the second process's
    hole["abstract"] = ""
    source = tmp_path / "papers.jsonl"
    source.write_text("\n".join([*lines[: CHUNK + 1], json.dumps(hole), *lines[CHUNK + 2 :]]))
    with pytest.raises(PredictError, match=rf"^scoring process 1: paper '{hole['id']}' has no"):
        predict_corpus(
            folder, [source], tmp_path / "out.parquet", tmp_path / "store", settings(),
            rows_without_text="error", processes=2,
        )  # fmt: skip
    assert not (tmp_path / "out.parquet").exists()
    assert not list((tmp_path / "store").glob("job-*"))


SPREAD_CHILD = """
import json, logging, sys
logging.basicConfig(level=logging.INFO)
from arxivcat.predict.predict import predict_corpus
from arxivcat.predict.settings import PredictSettings
folder, source, output, store, settings = sys.argv[1:6]
predict_corpus(folder, [source], output, store, PredictSettings.from_dict(json.loads(settings)),
               processes=2)
"""


def test_sigterm_stops_every_scoring_process(folder, tmp_path):
    import time

    source = tmp_path / "many.jsonl"
    write_snapshot(source, 4000, seed=6)
    store = tmp_path / "store"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    job = subprocess.Popen(
        [sys.executable, "-c", SPREAD_CHILD, str(folder), str(source), str(tmp_path / "o.parquet"),
         str(store), json.dumps(settings(chunk_rows=20).to_dict())],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(store.glob("chunk-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(store.glob("chunk-*.parquet")), "no chunk was scored"
    job.send_signal(signal.SIGTERM)
    _, stderr = job.communicate(timeout=60)
    assert job.returncode == 1, stderr[-3000:]
    assert "prediction interrupted by SIGTERM" in stderr
    workers = subprocess.run(
        ["pgrep", "-f", f"arxivcat.predict.spread {store}"], capture_output=True, text=True
    )
    assert workers.stdout == "", "scoring processes still running"
    assert not (tmp_path / "o.parquet").exists() and list(store.glob("chunk-*.parquet"))


def test_join_puts_one_column_per_experiment(tmp_path):
    import pyarrow as pa

    for name, scores in (("cv-32", [0.1, None, 0.9]), ("ai-32", [0.5, None, 0.2])):
        pq.write_table(
            pa.table({"id": ["a", "b", "c"], "probability": scores, "label": [0, None, 1]}),
            tmp_path / f"{name}.parquet",
            row_group_size=2 if name == "cv-32" else 1,
        )
    paths = {name: tmp_path / f"{name}.parquet" for name in ("cv-32", "ai-32")}
    assert join_predictions(paths, tmp_path / "joined.parquet") == 3
    assert pq.read_table(tmp_path / "joined.parquet").to_pydict() == {
        "id": ["a", "b", "c"], "cv-32": [0.1, None, 0.9], "ai-32": [0.5, None, 0.2]
    }  # fmt: skip
    pq.write_table(pa.table({"id": ["a", "c", "b"], "probability": [0.1, 0.2, 0.3]}),
                   paths["ai-32"])  # fmt: skip
    with pytest.raises(JoinError, match="papers differ"):
        join_predictions(paths, tmp_path / "bad.parquet")
    assert not (tmp_path / "bad.parquet").exists()


def test_command_line(folder, tmp_path):
    papers = tmp_path / "papers.csv"
    papers.write_text("id,title,abstract\nx1,Depth from images,We estimate depth.\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-m", "arxivcat", "predict", "--model", str(folder),
         "--input", str(papers), "--output", str(tmp_path / "scores.parquet"), "--device", "cpu"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(tmp_path / "scores.parquet")
    assert "1/1 rows (100.0%)" in result.stderr and "\r" not in result.stderr
    (row,) = pq.read_table(tmp_path / "scores.parquet").to_pylist()
    assert row["id"] == "x1" and 0 < row["probability"] < 1


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing model", "no-model: not a model folder (no config.json)"),
        ("unreadable input", "malformed JSON"),
        ("row without text", "paper 'x2' has no title or no abstract"),
    ],
)
def test_command_line_errors_are_one_line(folder, tmp_path, capsys, case, message):
    good = tmp_path / "papers.jsonl"
    good.write_text(
        '{"id": "x1", "title": "A", "abstract": "B"}\n{"id": "x2", "title": "C", "abstract": ""}\n'
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{broken\n")
    model = tmp_path / "no-model" if case == "missing model" else folder
    source = bad if case == "unreadable input" else good
    output = tmp_path / "out.parquet"
    argv = ["predict", "--model", str(model), "--input", str(source), "--output", str(output)]
    assert main([*argv, "--device", "cpu"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("arxivcat predict: error: ") and message in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert not output.exists()
