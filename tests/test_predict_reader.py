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


# Files as people have them: spreadsheets' and pandas' CSV and JSON lines, through the command.


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    from predict_fixtures import packaged_folder

    return packaged_folder(tmp_path_factory.mktemp("reader-command"))


def predict(capsys, folder: Path, source: Path, *options: str) -> tuple[int, list[str], Path]:
    """Run ``arxivcat predict`` on ``source``; return status, stderr lines and the output."""
    from arxivcat.cli import main

    output = source.parent / "scores.parquet"
    argv = ["predict", "--model", str(folder), "--input", str(source), "--output", str(output)]
    status = main([*argv, "--device", "cpu", *options])
    return status, capsys.readouterr().err.strip().splitlines(), output


SPREADSHEET = [
    ("x1", "Détection d'objets", "Réseaux à convolution."),
    ("x2", "Prime gaps", "Bounds."),
]


def test_csv_with_a_byte_order_mark_reads_as_written(folder, tmp_path, capsys):
    """Excel's "CSV UTF-8" and pandas' encoding="utf-8-sig" start with a byte-order mark."""
    source = tmp_path / "papers.csv"
    lines = ["id,title,abstract", *(",".join(row) for row in SPREADSHEET)]
    source.write_bytes("\r\n".join(lines).encode("utf-8-sig") + b"\r\n")
    assert read_all(source) == SPREADSHEET
    status, lines, output = predict(capsys, folder, source)
    assert status == 0, lines
    assert pq.read_table(output).column("id").to_pylist() == ["x1", "x2"]


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_csv_in_another_encoding_fails_in_one_line_naming_file_and_line(
    folder, tmp_path, capsys, encoding
):
    source = tmp_path / "papers.csv"
    lines = ["id,title,abstract", *(",".join(row) for row in SPREADSHEET)]
    source.write_bytes("\r\n".join(lines).encode(encoding) + b"\r\n")
    status, lines, output = predict(capsys, folder, source)
    assert status == 1 and len(lines) == 1, lines
    assert lines[0].startswith(f"arxivcat predict: error: {source}:2: not UTF-8 text: byte 0xe9")
    assert "UTF-8" in lines[0] and not output.exists()


def test_missing_values_are_never_scored_as_text(folder, tmp_path, capsys):
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "id": ["a1", "a2", "a3", "a4"],
            "title": ["Depth from images", None, "Prime gaps", "Object detection"],
            "abstract": ["We estimate depth.", "No title.", float("nan"), "We detect."],
        }
    )
    sources = {"empty-cells.csv": lambda p: frame.to_csv(p, index=False)}
    sources["nan-cells.csv"] = lambda p: frame.to_csv(p, index=False, na_rep="NaN")
    sources["pandas.jsonl"] = lambda p: frame.to_json(p, orient="records", lines=True)
    records = frame.astype(object).where(frame.notna(), float("nan")).to_dict("records")
    sources["nan-literals.jsonl"] = lambda p: p.write_text(
        "".join(json.dumps(r) + "\n" for r in records)  # json writes NaN for a float nan
    )
    for name, write in sources.items():
        source = tmp_path / name
        write(source)
        assert [t for _, t, _ in read_all(source)] == ["Depth from images", "", "Prime gaps",
                                                        "Object detection"], name  # fmt: skip
        assert [a for _, _, a in read_all(source)][2] == "", name
        status, lines, output = predict(capsys, folder, source, "--keep-rows-without-text")
        assert status == 0, lines
        scores = pq.read_table(output).column("probability").to_pylist()
        assert [s is None for s in scores] == [False, True, True, False], name
        output.unlink()


def test_a_missing_id_is_an_error_naming_file_and_row(tmp_path):
    source = tmp_path / "papers.jsonl"
    source.write_text('{"id": "a1", "title": "t", "abstract": "a"}\n'
                      '{"id": NaN, "title": "t", "abstract": "a"}\n')  # fmt: skip
    with pytest.raises(ArxivcatError, match=rf"^{source}: row 2 has no id$"):
        read_all(source)


def test_empty_files_hold_no_papers_and_are_named(folder, tmp_path, capsys):
    (tmp_path / "a-empty.csv").write_bytes(b"")
    (tmp_path / "b-header-only.csv").write_text("id,title,abstract\n")
    (tmp_path / "c-empty.jsonl").write_bytes(b"")
    (tmp_path / "d-papers.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PAPERS))
    files = corpus_files(tmp_path / "*")
    assert count_papers(files) == 3
    assert read_all(tmp_path / "*") == EXPECTED
    status, lines, output = predict(capsys, folder, tmp_path / "*", "--keep-rows-without-text")
    assert status == 0, lines
    assert pq.read_table(output).num_rows == 3
    for name in ("a-empty.csv", "c-empty.jsonl"):
        assert any(f"{tmp_path / name}: no papers in this file" in line for line in lines), name


def test_repeated_ids_are_scored_and_named_in_a_warning(folder, tmp_path, capsys):
    source = tmp_path / "papers.jsonl"
    rows = [
        {"id": "x1", "title": "Depth", "abstract": "We estimate depth."},
        {"id": "x2", "title": "Primes", "abstract": "Gaps."},
        {"id": "x1", "title": "Depth", "abstract": "We estimate depth."},
    ]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    status, lines, output = predict(capsys, folder, source)
    assert status == 0, lines
    table = pq.read_table(output).to_pylist()
    assert [r["id"] for r in table] == ["x1", "x2", "x1"]
    assert table[0]["probability"] == pytest.approx(table[2]["probability"])
    warning = [line for line in lines if "warning:" in line]
    assert warning == [
        f"arxivcat predict: warning: predict: {source} row 3: id 'x1' repeats {source} row 1 "
        "(1 row repeats an earlier id; every row is scored, in order)"
    ]
