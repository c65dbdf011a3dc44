"""Outputs appear under their final name only once complete."""

from __future__ import annotations

import os
import stat

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


def test_a_link_or_file_planted_at_a_temporary_name_is_never_written_through(tmp_path):
    """The temporary name is unguessable and created exclusively: nothing planted is followed."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "out" / "table.json"
    target.parent.mkdir()
    # The names a writer could guess: the old fixed one and hidden variants of it.
    planted_link = target.with_name("table.json.partial")
    planted_link.symlink_to(victim)
    planted_file = target.with_name(".table.json.partial")
    planted_file.write_text("planted\n")
    write_text_atomic(target, "new\n")
    assert victim.read_text() == "precious\n"
    assert target.read_text() == "new\n" and not target.is_symlink()
    assert planted_link.is_symlink() and planted_file.read_text() == "planted\n"
    assert sorted(p.name for p in target.parent.iterdir()) == sorted(
        ["table.json", planted_link.name, planted_file.name]
    )


def test_temporary_names_are_unique_exclusive_and_beside_the_target(tmp_path):
    target = tmp_path / "chunk.parquet"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second and first.parent == second.parent == tmp_path
        # Each exists (created by the writer itself), empty, a plain file, not a link.
        for partial in (first, second):
            assert partial.is_file() and not partial.is_symlink() and partial.stat().st_size == 0
        first.write_text("first\n")
        second.write_text("second\n")
    # The outer block completes last: its file is the one that stays.
    assert target.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["chunk.parquet"]


def test_outputs_keep_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "metrics.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "metrics.json").stat().st_mode) == 0o644
