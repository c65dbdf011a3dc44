"""The predict stage's corpus reader: formats, columns, OpenAlex abstracts, errors, chunking."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arxivcat.errors import ArxivcatError
from arxivcat.predict.read_papers import (
    corpus_files,
    count_papers,
    iter_chunks,
)

PAPERS = [
    {"id": "2101.00001", "title": "Depth  from\n a single image", "abstract": "We estimate depth."},
    {"id": "2101.00002", "title": "", "abstract": "No title here."},
    {"id": "2101.00003", "title": "Prime gaps", "abstract": None},
]


def read_all(source) -> list[tuple[str, str, str]]:
    files = corpus_files(source)
    return [
        row
        for chunk in iter_chunks(files, 2)
        for row in zip(chunk.ids, chunk.titles, chunk.abstracts, strict=True)
    ]


EXPECTED = [
    ("2101.00001", "Depth from a single image", "We estimate depth."),
    ("2101.00002", "", "No title here."),
    ("2101.00003", "Prime gaps", ""),
]


def test_jsonl_gzip_csv_and_parquet_read_alike(tmp_path):
    lines = "".join(json.dumps(p) + "\n" for p in PAPERS)
    (tmp_path / "a.jsonl").write_text(lines + "\n")
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as handle:
        handle.write(lines)
    with open(tmp_path / "c.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "title", "abstract"])
        writer.writeheader()
        writer.writerows(PAPERS)
    pq.write_table(pa.Table.from_pylist(PAPERS), tmp_path / "d.parquet")
    for name in ("a.jsonl", "b.jsonl.gz", "c.csv", "d.parquet"):
        assert read_all(tmp_path / name) == EXPECTED, name
        assert count_papers(corpus_files(tmp_path / name)) == 3, name
    assert len(read_all(tmp_path / "*")) == 12


def test_openalex_works_with_inverted_index(tmp_path):
    work = {
        "id": "https://openalex.org/W123",
        "display_name": "Soil nitrogen",
        "abstract_inverted_index": {"Field": [0], "trials": [1, 3], "and": [2]},
    }
    (tmp_path / "works.jsonl").write_text(json.dumps(work) + "\n")
    assert read_all(tmp_path / "works.jsonl") == [
        ("W123", "Soil nitrogen", "Field trials and trials")
    ]


def test_chunks_and_text_check(tmp_path):
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PAPERS))
    chunks = list(iter_chunks(corpus_files(tmp_path / "a.jsonl"), 2))
    assert [len(c) for c in chunks] == [2, 1]
    assert chunks[0].has_text() == [True, False] and chunks[1].has_text() == [False]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("none.jsonl", None, "no such file"),
        ("x.txt", "hello", "unknown format"),
        ("bad.jsonl", '{"id": "1", "title": "t", "abstract": "a"}\n{oops\n', "2: malformed JSON"),
        ("noid.jsonl", '{"title": "t", "abstract": "a"}\n', "no id column"),
        ("empty-id.csv", "id,title,abstract\n,t,a\n", "row 1 has no id"),
        ("bad.parquet", "not parquet", "unreadable parquet"),
    ],
)
def test_errors_are_one_line_and_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ArxivcatError, match=message) as error:
        read_all(path)
    assert "\n" not in str(error.value) and name in str(error.value)


def test_real_records(shared: Path):
    files = corpus_files(shared / "data" / "arxiv" / "*.jsonl")
    rows = [
        r
        for chunk in iter_chunks(files, 1000)
        for r in zip(chunk.ids, chunk.has_text(), strict=True)
    ]
    assert len(rows) == count_papers(files) == 3200
    assert len({paper_id for paper_id, _ in rows}) > 3000
    assert all(has_text for _, has_text in rows)
