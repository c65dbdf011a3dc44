"""The download stage's entry point: local snapshots, synthetic sources, determinism."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from arxivcat.config import schema_defaults
from arxivcat.data.corpus import CORPUS_SCHEMA, CorpusError
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.settings import SnapshotSettings
from arxivcat.io.checksums import file_sha256
from arxivcat.provenance import module_closure
from arxivcat.synthetic.generate_synthetic_snapshot import (
    SyntheticSourceError,
    generate_synthetic_snapshot,
)

SAMPLE = "data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl"


def _build(
    tmp_path: Path,
    source: str,
    sha256: str | None = None,
    tag: str = "a",
    snapshot_path: Path | None = None,
) -> dict:
    out = tmp_path / tag
    return build_corpus(
        SnapshotSettings.from_dict(
            {**schema_defaults("snapshot"), "source": source, "sha256": sha256}
        ),
        corpus_path=out / "arxiv.parquet",
        digest_path=out / "arxiv.sha256",
        manifest_path=out / "arxiv.manifest.json",
        cache_dir=tmp_path / "downloads",
        snapshot_path=snapshot_path,
    )


def test_local_jsonl_gives_corpus_digest_and_manifest(shared: Path, tmp_path: Path):
    source = shared / SAMPLE
    manifest = _build(tmp_path, str(source))
    corpus = tmp_path / "a" / "arxiv.parquet"
    table = pq.read_table(corpus)
    assert table.schema.equals(CORPUS_SCHEMA)
    assert table.num_rows == 1000
    assert table.column("id")[0].as_py() == "0704.0001"
    assert (tmp_path / "a" / "arxiv.sha256").read_text().strip() == file_sha256(corpus)
    written = json.loads((tmp_path / "a" / "arxiv.manifest.json").read_text())
    assert written == manifest
    assert manifest["records"] == 1000
    assert manifest["sha256"] == file_sha256(corpus)
    assert manifest["source_sha256"] == file_sha256(source)
    assert manifest["snapshot_date"] == "2024-02-13"
    assert manifest["retrieved"].endswith("Z")


def test_same_input_gives_byte_identical_corpus(shared: Path, tmp_path: Path):
    first = _build(tmp_path, str(shared / SAMPLE), tag="a")
    second = _build(tmp_path, str(shared / SAMPLE), tag="b")
    assert first["sha256"] == second["sha256"]
    assert (tmp_path / "a" / "arxiv.parquet").read_bytes() == (
        tmp_path / "b" / "arxiv.parquet"
    ).read_bytes()


def test_gzip_and_zip_give_the_same_corpus_as_plain(shared: Path, tmp_path: Path):
    plain = shared / SAMPLE
    gz = tmp_path / "snap.json.gz"
    with open(plain, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    zipped = tmp_path / "arxiv.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(plain, "arxiv-metadata-oai-snapshot.json")
    digests = {
        _build(tmp_path, str(path), tag=tag)["sha256"]
        for tag, path in (("plain", plain), ("gz", gz), ("zip", zipped))
    }
    assert len(digests) == 1


def test_checksum_mismatch_is_an_error_and_leaves_no_output(shared: Path, tmp_path: Path):
    with pytest.raises(CorpusError, match="does not match the expected"):
        _build(tmp_path, str(shared / SAMPLE), sha256="0" * 64)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())


def test_matching_checksum_is_accepted(shared: Path, tmp_path: Path):
    source = shared / SAMPLE
    manifest = _build(tmp_path, str(source), sha256=file_sha256(source))
    assert manifest["records"] == 1000


def test_missing_local_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(CorpusError, match="no such file"):
        _build(tmp_path, str(tmp_path / "nope.jsonl"))


def test_malformed_line_names_file_and_line_and_leaves_no_corpus(shared: Path, tmp_path: Path):
    lines = (shared / SAMPLE).read_text(encoding="utf-8").splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join([*lines[:5], '{"id": "0704.9999", "title": \n', *lines[5:10]]))
    with pytest.raises(CorpusError, match=r"bad\.jsonl:6: malformed JSON"):
        _build(tmp_path, str(bad))
    assert not (tmp_path / "a" / "arxiv.parquet").exists()
    assert not (tmp_path / "a" / "arxiv.sha256").exists()


def test_truncated_gzip_is_a_clear_error(shared: Path, tmp_path: Path):
    data = gzip.compress((shared / SAMPLE).read_bytes())
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorpusError, match="truncated download"):
        _build(tmp_path, str(cut))
    assert not (tmp_path / "a" / "arxiv.parquet").exists()
    assert not list((tmp_path / "a").glob("*.partial"))


def test_synthetic_source_reads_the_generated_file_deterministically(tmp_path: Path):
    manifests = []
    for tag in ("a", "b"):
        generated = tmp_path / f"synthetic-{tag}.jsonl"
        assert generate_synthetic_snapshot("synthetic:300", generated) == 300
        manifests.append(_build(tmp_path, "synthetic:300", tag=tag, snapshot_path=generated))
    first, second = manifests
    assert first["records"] == 300 and first["source"] == "synthetic:300"
    assert first["sha256"] == second["sha256"]
    assert first["source_sha256"] == file_sha256(tmp_path / "synthetic-a.jsonl")
    with pytest.raises(CorpusError, match="generate_synthetic_snapshot"):
        _build(tmp_path, "synthetic:300", tag="c")


def test_the_download_stage_code_does_not_include_the_generator():
    closure = {
        path.parent.name + "/" + path.name
        for path in module_closure("arxivcat.data.download_snapshot")
    }
    assert "data/download_snapshot.py" in closure
    assert not any(name.startswith("synthetic/") for name in closure), closure
    assert "arxivcat.config" not in str(closure) and "config.py" not in closure


@pytest.mark.parametrize("source", ["synthetic:0", "synthetic:x"])
def test_bad_synthetic_count_is_a_clear_error(tmp_path: Path, source: str):
    with pytest.raises(SyntheticSourceError, match="synthetic:N"):
        generate_synthetic_snapshot(source, tmp_path / "s.jsonl")
