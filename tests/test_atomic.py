"""Outputs appear under their final name only once complete."""

from __future__ import annotations

import pytest

from arxivcat.io.atomic import atomic_path, write_text_atomic


def test_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "out" / "table.json"
    write_text_atomic(target, "old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as partial:
        partial.write_text("half of the new")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.json"]


def test_completed_write_replaces_the_file(tmp_path):
    target = tmp_path / "new" / "digest.sha256"
    with atomic_path(target) as partial:
        assert not target.exists()
        partial.write_text("abc\n")
    assert target.read_text() == "abc\n"
    assert not partial.exists()
