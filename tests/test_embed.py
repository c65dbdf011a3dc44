"""The embed stage on the tiny model: which papers, pooling, progress, kill-and-resume."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from chunk_kill import killing_child
from splits_fixtures import REFERENCE, assign, paper, write_papers, write_weak

from arxivcat.config import schema_defaults
from arxivcat.model.encoder import EncoderError, Pooling, pool, read_pooling
from arxivcat.model.inference import Tokens, place, run_batches
from arxivcat.model.loading import load_tokenizer
from arxivcat.model.tokenize import encode_pairs
from arxivcat.probe.embed import Embedder, embed_split
from arxivcat.probe.embed_weak_negatives import embed_weak_negatives
from arxivcat.probe.papers import SplitPapers
from arxivcat.probe.settings import EmbedSettings, EncoderSettings
from arxivcat.splits.table_schema import column_matrix

CHUNK = 40
TINY = EncoderSettings("builtin:tiny-bert", 32)


def settings(**overrides) -> EmbedSettings:
    base = {**schema_defaults("embed"), "device": "cpu", "precision": "fp32"}
    return EmbedSettings.from_dict({**base, "chunk_rows": CHUNK, "batch_size": 16, **overrides})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """A corpus of 150 papers (one with two versions, some before 2010), its assignment, and
    weak negatives (one repeated, one an arXiv paper by title)."""
    root = tmp_path_factory.mktemp("embed")
    rows = [
        paper(f"{1000 + i}.0001", ["cs.CV" if i % 3 else "math.NT"], 2009 + i % 8)
        for i in range(150)
    ]
    rows[5]["abstract"] = "A long abstract " + "with many words " * 40
    old = dict(rows[10], title="An old version", updated=dt.date(2011, 1, 1))
    rows[10]["updated"] = dt.date(2012, 1, 1)
    corpus = write_papers([old, *rows], root / "arxiv.parquet")
    assign(corpus, REFERENCE, root / "assignment.parquet")
    weak = [{"id": f"W{i}", "title": f"Soil study {i}"} for i in range(12)]
    weak += [{"id": "W3", "title": "Soil study 3 again"}, {"id": "W99", "title": "Paper 1004.0001"}]
    write_weak(weak, root / "weak.parquet")
    return {
        "corpus": corpus,
        "assignment": root / "assignment.parquet",
        "weak": root / "weak.parquet",
    }


def embed(inputs, out: Path, **overrides) -> dict:
    return embed_split(
        inputs["corpus"], inputs["assignment"], out / "embeddings.parquet",
        out / "embeddings.json", out / "store", TINY, settings(**overrides),
        name="embed reference",
    )  # fmt: skip


def test_cls_mean_and_max_pooling_skip_padding():
    # The first paper's third token is padding, with states that must not count.
    hidden = torch.tensor(
        [[[1.0, 2.0], [3.0, 4.0], [99.0, -99.0]], [[5.0, 6.0], [7.0, 0.0], [9.0, 9.0]]]
    )
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    cls = pool(hidden, mask, Pooling("cls", False, "test"))
    assert cls.tolist() == [[1.0, 2.0], [5.0, 6.0]]
    mean = pool(hidden, mask, Pooling("mean", False, "test"))
    assert mean.tolist() == [[2.0, 3.0], [7.0, 5.0]]
    biggest = pool(hidden, mask, Pooling("max", False, "test"))
    assert biggest.tolist() == [[3.0, 4.0], [9.0, 9.0]]
    unit = pool(hidden, mask, Pooling("mean", True, "test"))
    assert torch.allclose(unit.norm(dim=1), torch.ones(2))
    assert torch.allclose(unit[0], mean[0] / mean[0].norm())


def test_pooling_follows_the_models_own_configuration(tmp_path):
    minilm = read_pooling("builtin:minilm")
    assert (minilm.mode, minilm.normalize) == ("mean", True)
    assert "1_Pooling/config.json" in minilm.source and "Normalize" in minilm.source
    assert read_pooling("builtin:tiny-bert").mode == "cls"
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    assert read_pooling(str(folder)) == Pooling(
        "cls", False, f"the default: {folder} ships no 1_Pooling/config.json"
    )
    flags = {"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(flags))
    assert read_pooling(str(folder)).mode == "cls"  # allenai-specter's configuration
    flags["pooling_mode_mean_tokens"] = True
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(flags))
    with pytest.raises(EncoderError, match="pooling_mode_cls_token, pooling_mode_mean_tokens"):
        read_pooling(str(folder))


def test_a_papers_embedding_does_not_depend_on_its_batch():
    """Mean pooling over real tokens: alone, or padded beside a long paper, the same vector."""
    embedder = Embedder(EncoderSettings("builtin:minilm", 64), settings(precision="fp32"))
    tokenizer = load_tokenizer("builtin:minilm")
    titles, abstracts = ["Short", "A much longer title"], ["tiny", "words " * 50]
    both = Tokens.from_lists(encode_pairs(tokenizer, titles, abstracts, 64))
    alone = Tokens.from_lists(encode_pairs(tokenizer, titles[:1], abstracts[:1], 64))
    placement = place("cpu", "fp32")
    together, _ = run_batches(embedder.forward, both, 2, placement)
    single, _ = run_batches(embedder.forward, alone, 2, placement)
    assert embedder.pooling.mode == "mean"
    np.testing.assert_allclose(together[0], single[0], atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_every_assigned_paper_once(inputs, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="arxivcat"):
        manifest = embed(inputs, tmp_path, progress_seconds=1e-9)
    table = pq.read_table(tmp_path / "embeddings.parquet")
    assigned = pq.read_table(inputs["assignment"])["id"].to_pylist()
    assert sorted(table["id"].to_pylist()) == sorted(assigned) and len(assigned) == 131
    assert not any(table["weak_negative"].to_pylist())
    vectors = column_matrix(table["embedding"])
    assert vectors.shape == (table.num_rows, 32) and np.isfinite(vectors).all()
    assert (
        manifest["encoder"]["pooling"]["mode"] == "cls" and manifest["encoder"]["dimension"] == 32
    )
    assert manifest["papers"] == len(assigned) and manifest["weak_negatives"] is False
    assert (
        manifest["pass"]["rows"] == table.num_rows and manifest["pass"]["placement"] == "cpu fp32"
    )
    assert json.loads((tmp_path / "embeddings.json").read_text()) == manifest
    # One row group per chunk: four of the split's 131 papers.
    assert pq.ParquetFile(tmp_path / "embeddings.parquet").metadata.num_row_groups == 4
    progress = [r.getMessage() for r in caplog.records if "papers/s" in r.getMessage()]
    assert f"embed reference: {CHUNK}/{table.num_rows} papers" in progress[0]
    assert "ETA" in progress[0] and "(100.0%)" in progress[-1]
    assert not (tmp_path / "store").exists()


def test_the_weak_negative_pool_once_without_arxiv_papers(inputs, tmp_path):
    manifest = embed_weak_negatives(
        inputs["corpus"], inputs["weak"], tmp_path / "weak.parquet", tmp_path / "weak.json",
        tmp_path / "store", TINY, settings(),
    )  # fmt: skip
    table = pq.read_table(tmp_path / "weak.parquet")
    # Repeats kept once, the arXiv paper (by title) left out, in id order.
    assert table["id"].to_pylist() == sorted(f"W{i}" for i in range(12))
    assert all(table["weak_negative"].to_pylist())
    assert manifest["papers"] == 12 and manifest["weak_negatives"] is True
    assert manifest["pass"]["rows"] == 12 and not (tmp_path / "store").exists()


def test_the_latest_version_of_a_paper_is_embedded(inputs, tmp_path):
    papers = SplitPapers(inputs["corpus"], inputs["assignment"])
    chunks = list(papers.chunks(CHUNK))
    titles = {i: t for chunk in chunks for i, t in zip(chunk.ids, chunk.titles, strict=True)}
    assert "1010.0001" in titles and titles["1010.0001"] == "Paper 1010.0001"
    assert [len(c) for c in chunks][:-1] == [CHUNK] * (len(chunks) - 1)
    assert not any(c.weak_negative for c in chunks)


# The child process: embed, and SIGKILL itself once chunk KILL_AFTER is saved.
CHILD = killing_child("""
import json, logging
logging.basicConfig(level=logging.INFO)
from arxivcat.probe.embed import embed_split
from arxivcat.probe.settings import EmbedSettings, EncoderSettings
corpus, assignment, out, settings = sys.argv[1:5]
embed_split(corpus, assignment, f"{out}/embeddings.parquet", f"{out}/embeddings.json",
            f"{out}/store", EncoderSettings("builtin:tiny-bert", 32),
            EmbedSettings.from_dict(json.loads(settings)))
""")


def run_child(inputs, out: Path, kill_after: int = -1) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(inputs["corpus"]), str(inputs["assignment"]),
         str(out), json.dumps(settings().to_dict()), str(kill_after)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip


def test_killed_job_resumes_at_its_last_chunk_byte_identical(inputs, tmp_path):
    reference = tmp_path / "reference"
    whole = embed(inputs, reference)
    out = tmp_path / "out"
    killed = run_child(inputs, out, kill_after=1)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (out / "embeddings.parquet").exists()
    assert sorted(p.name for p in (out / "store").glob("chunk-*")) == [
        "chunk-00000.parquet", "chunk-00001.parquet"
    ]  # fmt: skip
    resumed = run_child(inputs, out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "RESUMING: 2 finished chunk(s)" in resumed.stderr
    assert (out / "embeddings.parquet").read_bytes() == (
        reference / "embeddings.parquet"
    ).read_bytes()
    manifest = json.loads((out / "embeddings.json").read_text())
    # The pass record covers every chunk, those of the killed run included.
    assert manifest["resumed_chunks"] == 2 and manifest["pass"]["rows"] == whole["pass"]["rows"]
    assert manifest["pass"]["real_tokens"] == whole["pass"]["real_tokens"]
    assert not (out / "store").exists()


def test_a_store_made_for_other_settings_is_not_resumed(inputs, tmp_path):
    out = tmp_path / "out"
    assert run_child(inputs, out, kill_after=0).returncode == -signal.SIGKILL
    manifest = embed(inputs, out, batch_size=8)
    assert manifest["resumed_chunks"] == 0
