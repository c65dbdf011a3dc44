"""Code digests: a stage's digest follows the meaning of the modules it runs, and nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from arxivcat import provenance

STAGES = (
    "arxivcat.data.download_snapshot",
    "arxivcat.splits.label_splits",
    "arxivcat.model.tokenize",
    "arxivcat.model.train",
    "arxivcat.model.evaluate",
    "arxivcat.report.write_card",
)


@pytest.fixture()
def package(tmp_path, repo, monkeypatch) -> Path:
    """A private copy of the package that the digests read instead of the repository's."""
    copy = tmp_path / "arxivcat"
    shutil.copytree(repo / "workflow" / "arxivcat", copy, ignore=shutil.ignore_patterns("*.pyc"))
    monkeypatch.setattr(provenance, "_ROOT", copy)
    provenance.module_closure.cache_clear()
    yield copy
    provenance.module_closure.cache_clear()


def digests() -> dict[str, str]:
    provenance.module_closure.cache_clear()
    return {stage: provenance.code_digest(stage) for stage in STAGES}


def test_closure_follows_package_imports_and_their_packages():
    files = {p.name for p in provenance.module_closure("arxivcat.config")}
    assert files == {
        "__init__.py",
        "config.py",
        "errors.py",
        "layout.py",
        "sweeps.py",
        "taxonomy.py",
        "yaml_file.py",
    }
    # Importing arxivcat.io.runlog runs arxivcat/__init__.py and arxivcat/io/__init__.py too.
    files = {
        p.relative_to(provenance._ROOT).as_posix()
        for p in provenance.module_closure("arxivcat.io.runlog")
    }
    assert {"__init__.py", "io/__init__.py", "io/runlog.py"} <= files


def test_unknown_module_is_an_error():
    with pytest.raises(ValueError, match="not a module of the arxivcat package"):
        provenance.module_closure("arxivcat.no_such_stage")


def test_relative_imports_are_followed(package):
    (package / "model" / "extra.py").write_text("from ..io import atomic\nfrom . import metrics\n")
    files = {
        p.relative_to(package).as_posix() for p in provenance.module_closure("arxivcat.model.extra")
    }
    assert {"model/extra.py", "model/metrics.py", "io/atomic.py", "io/__init__.py"} <= files


def test_normalization_drops_comments_docstrings_and_layout(tmp_path):
    one, two, three = (tmp_path / f"{name}.py" for name in ("one", "two", "three"))
    one.write_text('"""Module."""\n\ndef f(x):\n    """Doc."""\n    return x + 1\n')
    two.write_text("# a comment\ndef f( x ):\n    '''Other doc.'''\n\n    return (x+1)  # why\n")
    three.write_text('"""Module."""\n\ndef f(x):\n    """Doc."""\n    return x + 2\n')
    assert provenance.normalized_source(one) == provenance.normalized_source(two)
    assert provenance.normalized_source(one) != provenance.normalized_source(three)


def test_comments_and_docstrings_anywhere_change_no_digest(package):
    before = digests()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if text.startswith('"""'):
            text = '"""Edited docstring."""' + text.split('"""', 2)[2]
        path.write_text(text + "\n# a comment\n", encoding="utf-8")
    assert digests() == before


def test_a_real_edit_changes_exactly_the_stages_that_run_it(package):
    before = digests()
    with open(package / "model" / "train.py", "a", encoding="utf-8") as handle:
        handle.write("\nEDITED = True\n")
    after = digests()
    changed = {stage for stage in STAGES if after[stage] != before[stage]}
    assert changed == {"arxivcat.model.train"}
    with open(package / "io" / "atomic.py", "a", encoding="utf-8") as handle:
        handle.write("\nEDITED = True\n")
    changed = {stage for stage, digest in digests().items() if digest != after[stage]}
    importers = {
        stage
        for stage in STAGES
        if package / "io" / "atomic.py" in provenance.module_closure(stage)
    }
    assert changed == importers
    assert "arxivcat.report.write_card" in changed
