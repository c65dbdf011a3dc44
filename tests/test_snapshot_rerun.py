"""Re-downloading an unchanged snapshot must rerun nothing downstream (a real Snakemake run).

The download rule writes the corpus deterministically plus a small digest file; consumers take
the corpus as ``ancient()`` and the digest as a normal input, and Snakemake skips inputs of at
most 1 MB whose checksum is unchanged even when their mtime is newer.  The workflow here is the
repository's own download rules plus a stand-in consumer declared exactly like assign_splits.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from arxivcat import layout

REPO = Path(__file__).resolve().parents[1]

SNAKEFILE = """
configfile: "config/config.yaml"
include: "{repo}/workflow/rules/common.smk"
include: "{repo}/workflow/rules/download.smk"

rule consumer:
    input:
        corpus=ancient(rules.download_snapshot.output.corpus),
        digest=rules.download_snapshot.output.digest,
    output:
        layout.ASSIGNMENT.format(split="reference"),
    shell:
        "cp {{input.digest}} {{output}}"
"""


def _package(tmp_path: Path) -> Path:
    """The package to run; on a branch without the weak-negatives stage a stub lets the rule
    file (which digests that module) parse."""
    if (REPO / "workflow/arxivcat/negatives/prepare_weak_negatives.py").is_file():
        return REPO / "workflow"
    if (tmp_path / "pkg").is_dir():
        return tmp_path / "pkg"
    shutil.copytree(REPO / "workflow/arxivcat", tmp_path / "pkg/arxivcat")
    (tmp_path / "pkg/arxivcat/negatives/prepare_weak_negatives.py").write_text('"""Stub."""\n')
    return tmp_path / "pkg"


def _snakemake(workdir: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(_package(workdir.parent))}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--directory", str(workdir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=workdir,
    )
    if result.returncode != 0:
        raise AssertionError(f"snakemake {args} failed:\n{result.stderr[-4000:]}")
    return result.stdout + result.stderr


@pytest.mark.e2e
def test_redownloading_an_unchanged_snapshot_reruns_nothing(shared: Path, tmp_path: Path):
    tmp_path = tmp_path / "work"
    (tmp_path / "config").mkdir(parents=True)
    shutil.copy(REPO / "config" / "schema.yaml", tmp_path / "config" / "schema.yaml")
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    source = shared / "data/arxiv/snapshot-sample-2007-cs.AI-100-awalesushil.jsonl"
    config["snapshot"]["source"] = str(source)
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "Snakefile").write_text(SNAKEFILE.format(repo=REPO), encoding="utf-8")
    target = layout.ASSIGNMENT.format(split="reference")

    _snakemake(tmp_path, target)
    corpus = tmp_path / layout.CORPUS
    before = corpus.read_bytes()
    mtime = corpus.stat().st_mtime_ns

    _snakemake(tmp_path, "--forcerun", "download_snapshot", "--", layout.CORPUS_DIGEST)
    assert corpus.stat().st_mtime_ns > mtime, "the download rule did not run again"
    assert corpus.read_bytes() == before
    assert "Nothing to be done" in _snakemake(tmp_path, "--dry-run", target)

    # A changed snapshot does rerun the consumer.
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(source.read_text(encoding="utf-8").splitlines(True)[:50]))
    config["snapshot"]["source"] = str(changed)
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _snakemake(tmp_path, "--forcerun", "download_snapshot", "--", layout.CORPUS_DIGEST)
    assert "consumer" in _snakemake(tmp_path, "--dry-run", target)
