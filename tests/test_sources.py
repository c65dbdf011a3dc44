"""The one reading of a local source (a file, a directory or a glob) into its data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxivcat.io.sources import source_files

SUFFIXES = (".jsonl", ".parquet")


class SourceProblem(ValueError):
    pass


def files_of(source: str | Path) -> list[Path]:
    return source_files(source, SUFFIXES, error=SourceProblem, setting="stage.source")


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    for name in ("a/x.jsonl", "a/sub/y.PARQUET", "a/notes.md", "a-b/z.jsonl", "top.jsonl"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    return tmp_path


def test_a_file_is_itself_and_a_directory_its_data_files_at_any_depth(tree):
    assert files_of(tree / "top.jsonl") == [tree / "top.jsonl"]
    assert files_of(tree / "a") == [tree / "a/sub/y.PARQUET", tree / "a/x.jsonl"]


def test_a_glob_matches_files_at_any_depth_with_double_star_in_tree_order(tree):
    assert files_of(tree / "**" / "*.jsonl") == [
        tree / "a/x.jsonl",
        tree / "a-b/z.jsonl",
        tree / "top.jsonl",
    ]
    assert files_of(tree / "*" / "*.jsonl") == [tree / "a/x.jsonl", tree / "a-b/z.jsonl"]


def test_nothing_matched_and_unknown_formats_are_the_callers_error(tree):
    with pytest.raises(SourceProblem, match=r"^stage\.source: .*absent\*: no such file"):
        files_of(tree / "absent*")
    with pytest.raises(SourceProblem, match=r"notes\.md: unknown format \(expected \.jsonl"):
        files_of(tree / "a" / "*")
    with pytest.raises(SourceProblem, match="unknown format"):
        files_of(tree / "a" / "notes.md")
