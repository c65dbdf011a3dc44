"""Code digests: a stage's digest follows its own imports and nothing else."""

from __future__ import annotations

import shutil

import pytest

from arxivcat import provenance


def test_closure_follows_package_imports_only():
    files = {p.name for p in provenance.module_closure("arxivcat.config")}
    assert files == {"__init__.py", "config.py", "errors.py", "taxonomy.py"}


def test_unknown_module_is_an_error():
    with pytest.raises(ValueError, match="not a module of the arxivcat package"):
        provenance.module_closure("arxivcat.no_such_stage")


def test_digest_changes_with_an_imported_module_and_not_with_others(tmp_path, repo, monkeypatch):
    copy = tmp_path / "arxivcat"
    shutil.copytree(repo / "workflow" / "arxivcat", copy)
    monkeypatch.setattr(provenance, "_ROOT", copy)
    provenance.module_closure.cache_clear()
    before_config = provenance.code_digest("arxivcat.config")
    before_runlog = provenance.code_digest("arxivcat.io.runlog")
    with open(copy / "taxonomy.py", "a", encoding="utf-8") as handle:
        handle.write("\n# an edit\n")
    provenance.module_closure.cache_clear()
    assert provenance.code_digest("arxivcat.config") != before_config
    assert provenance.code_digest("arxivcat.io.runlog") == before_runlog
    provenance.module_closure.cache_clear()
