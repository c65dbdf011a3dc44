"""The fast ingest path gives the same rows, errors and file as the plain per-record path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from arxivcat import layout
from arxivcat.config import schema_defaults
from arxivcat.data import corpus
from arxivcat.data.corpus import (
    CorpusError,
    bad_record,
    normalize_record,
    normalized_records,
    normalized_tables,
)
from arxivcat.data.corpus_table import write_corpus, write_tables
from arxivcat.data.download_snapshot import build_corpus
from arxivcat.data.jsonl import decode_line, read_records
from arxivcat.data.settings import SnapshotSettings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE = SHARED / "data/arxiv/snapshot-sample-2007-0704.0001-0704.1000.jsonl"

BASE = {
    "id": "0704.0001v2",
    "title": " A\n title ",
    "categories": "cs.AI math.IT",
    "abstract": "  Some\ntext wrapped\nhere.\n",
    "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
    "update_date": "2008-11-13",
    "doi": "10.1/x",
}


def _line(**changes: Any) -> str:
    return json.dumps({**BASE, **changes})


#: Well-formed records with every odd shape the general path accepts.
ODD_BUT_VALID = [
    _line(),
    "",
    "   ",
    _line(id=5),
    _line(id="solv-int/9901001v3"),
    _line(id=" math/0501001 "),
    _line(categories="bad.cat cs.AI cs.AI"),
    _line(versions=[]),
    _line(versions=None),
    _line(versions=[{}]),
    _line(versions=[{"created": None}]),
    _line(versions=[{"created": "2007-04-02T19:18:42Z"}]),
    _line(versions=[{"created": "Mon, 31 Feb 2007 19:18:42 GMT"}]),
    _line(versions=[{"created": "Mon, 2 April 2007 19:18:42 GMT"}]),
    _line(versions=[{"created": "Mon, 2 Apr 07 19:18:42 GMT"}]),
    _line(versions=[{"created": "Mon, 2 Apr 2007 19:18:42 GMT"}, 5]),
    _line(update_date=None),
    _line(update_date=""),
    _line(update_date="garbage"),
    _line(abstract=None),
    _line(abstract="a\tb  c\r\nd\x0be\x0cf\x1cg\x1dh\x1ei\x1fj"),
    _line(abstract="a \n b"),
    _line(abstract="\n\n"),
    _line(title="\u00a0T\u2003x y\u3000", abstract="caf\u00e9\u2028b\x85c"),
    _line(doi=""),
    _line(doi=7),
    '{"id":"1","id":"0704.0002","title":"t","categories":"cs.AI"}',
    '{"id": NaN, "title":"t","categories":"cs.AI"}',
    '{"id":"0704.0003","title":"t","categories":"cs.AI","x":{"a":[1,{"b":null}]}}',
]

#: Records the general path rejects, one per file.
BAD = [
    _line(id=""),
    _line(title=None),
    _line(title=""),
    _line(title=["x"]),
    _line(categories=None),
    _line(categories=""),
    _line(versions=[{"created": 5}]),
    _line(versions=["x"]),
    _line(update_date=["x"]),
    _line(abstract=3),
    '{"title":"t","categories":"cs.AI"}',
    "[1, 2]",
    "{bad",
    _line() + " x",
]


def _reference(path: Path) -> list[dict[str, Any]]:
    """The plain path: every line decoded with ``json`` and normalized on its own."""
    rows = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        raw = decode_line(path, number, line)
        if raw is None:
            continue
        try:
            rows.append(normalize_record(raw))
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise CorpusError(f"{path}:{number}: {bad_record(error)}") from None
    return rows


def _outcome(function: Any, path: Path) -> Any:
    try:
        return function(path)
    except CorpusError as error:
        return ("error", str(error))


def test_odd_records_give_the_same_rows(tmp_path: Path):
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(ODD_BUT_VALID) + "\n", encoding="utf-8")
    expected = _reference(path)
    assert len(expected) == len(ODD_BUT_VALID) - 2
    assert list(normalized_records(path)) == expected


@pytest.mark.parametrize("bad", BAD)
def test_bad_records_give_the_same_error(tmp_path: Path, bad: str):
    path = tmp_path / "bad.jsonl"
    path.write_text(f"{_line()}\n\n{bad}\n{_line()}\n", encoding="utf-8")
    expected = _outcome(_reference, path)
    assert expected[0] == "error"
    assert _outcome(lambda p: list(normalized_records(p)), path) == expected
    assert _outcome(lambda p: list(normalized_tables(p)), path) == expected


def test_malformed_line_is_named_by_file_line(tmp_path: Path):
    path = tmp_path / "broken.jsonl"
    path.write_text(f"{_line()}\n\n{{bad\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"broken\.jsonl:3: malformed JSON: "):
        list(normalized_records(path))


def test_truncated_gzip_is_reported(tmp_path: Path):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(("\n".join([_line()] * 2000) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        CorpusError, match=r"cut\.jsonl\.gz: unreadable after line \d+: .*truncated"
    ):
        list(normalized_tables(path))


def test_tables_write_the_same_file_as_rows(tmp_path: Path):
    writable = [line for line in ODD_BUT_VALID if '"doi": 7' not in line]  # an int DOI is no string
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(writable) + "\n", encoding="utf-8")
    by_rows = tmp_path / "rows.parquet"
    by_tables = tmp_path / "tables.parquet"
    assert write_corpus(_reference(path), by_rows, batch_size=5) == len(writable) - 2
    assert write_tables(normalized_tables(path, batch_size=5), by_tables) == len(writable) - 2
    assert by_rows.read_bytes() == by_tables.read_bytes()


def test_real_sample_gives_the_same_rows(tmp_path: Path):
    if not SAMPLE.exists():
        pytest.skip("../shared is absent: no real snapshot sample to compare on")
    assert list(normalized_records(SAMPLE)) == _reference(SAMPLE)


def test_collapse_matches_str_split_for_every_whitespace_character():
    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]
    assert len(spaces) > 20
    texts = ["", " ", "a", "  a\nb \n", "a\n\nb", "a\n b"]
    texts += [f"{s}a{s}b{s}{s}c{s}" for s in spaces]
    texts += [f"a\n{s}b" for s in spaces]
    for text in texts:
        assert corpus._collapse(text) == " ".join(text.split()), repr(text)


def test_memoized_version_dates_match_the_parser():
    values = [
        "Mon, 2 Apr 2007 19:18:42 GMT",
        "Tue, 2 Apr 2007 01:00:00 GMT",
        "Mon, 02 Apr 2007 19:18:42 GMT",
        "Mon, 31 Feb 2007 19:18:42 GMT",
        "Mon, 2 April 2007 19:18:42 GMT",
        "Mon, 2 Apr 07 19:18:42 GMT",
        "Mon, 2 Apr 2007",
        "Mon, 2 Apr 2007\n",
        "Mon, 2 Apr 2007 ",
        "Mon, \u00b2 Apr 2007 10:00:00 GMT",
        "Mon, 2 Apr 0 10:00:00 GMT",
        "2007-04-02",
        " 2007-04-02T00:00:00Z",
        "nonsense",
        "",
        None,
    ]
    for _ in range(2):  # the second round reads the memo
        for value in values:
            assert corpus._version_date(value) == corpus._parse_date(value), value
            assert corpus._memo_date(value) == corpus._parse_date(value), value


def test_a_byte_that_is_not_utf8_is_named_with_file_and_line(tmp_path: Path):
    latin1 = json.dumps({**BASE, "title": "Caf\u00e9"}, ensure_ascii=False)
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(f"{_line()}\n".encode() + latin1.encode("latin-1") + b"\n")
    column = latin1.index("\u00e9") + 1
    message = rf"latin1\.jsonl:2: not UTF-8 text: byte 0xe9 at column {column}$"
    for read in (normalized_records, normalized_tables, read_records):
        with pytest.raises(CorpusError, match=message):
            list(read(path))


def test_a_bad_record_says_what_is_wrong_with_its_line(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    untitled = {key: value for key, value in BASE.items() if key != "title"}
    path.write_text(f"{_line()}\n\n{json.dumps(untitled)}\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.jsonl:3: bad record: no 'title' field$"):
        list(normalized_tables(path))


def _odd_snapshot(tmp_path: Path) -> Path:
    path = tmp_path / "odd.jsonl"
    lines = [
        _line(id="0704.0001"),
        _line(id="0704.0002", abstract=None),
        _line(id="0704.0003", abstract="  \n"),
        _line(id="0704.0004", categories="cs.NOTREAL cs.LG"),
        _line(id="0704.0005", categories="cs.NOTREAL"),
        _line(id="0704.0006", categories="cs.AI xx.YY cs.NOTREAL", abstract=""),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("abstracts", "categories", "ids"),
    [
        (
            "keep",
            "keep",
            ["0704.0001", "0704.0002", "0704.0003", "0704.0004", "0704.0005", "0704.0006"],
        ),
        ("drop", "keep", ["0704.0001", "0704.0004", "0704.0005"]),
        ("keep", "drop", ["0704.0001", "0704.0002", "0704.0003", "0704.0004", "0704.0006"]),
        ("drop", "drop", ["0704.0001", "0704.0004"]),
    ],
)
def test_records_without_abstract_and_unknown_categories_are_counted_and_kept_or_dropped(
    tmp_path: Path, abstracts: str, categories: str, ids: list[str]
):
    source = _odd_snapshot(tmp_path)
    out = tmp_path / "out"
    settings = {
        "source": str(source),
        "missing_abstract": abstracts,
        "unknown_categories": categories,
    }
    manifest = build_corpus(
        SnapshotSettings.from_dict({**schema_defaults("snapshot"), **settings}),
        out / "arxiv.parquet",
        out / "arxiv.sha256",
        out / "arxiv.manifest.json",
        tmp_path / "cache",
    )
    assert json.loads((out / "arxiv.manifest.json").read_text()) == manifest
    checks = manifest["record_checks"]
    assert checks["missing_abstract"] == {
        "records": 3,
        "action": abstracts,
        "dropped": 3 if abstracts == "drop" else 0,
    }
    unknown = checks["unknown_categories"]
    assert unknown["records"] == (3 if abstracts == "keep" else 2)
    assert unknown["action"] == categories
    assert unknown["categories"] == (
        {"cs.NOTREAL": 3, "xx.YY": 1} if abstracts == "keep" else {"cs.NOTREAL": 2}
    )
    assert unknown["dropped"] == (1 if categories == "drop" else 0)
    table = pq.read_table(out / "arxiv.parquet")
    assert table["id"].to_pylist() == ids and manifest["records"] == len(ids)
    rows = {row["id"]: row for row in table.to_pylist()}
    if categories == "drop":
        assert rows["0704.0004"]["categories"] == ["cs.LG"]
        assert rows["0704.0004"]["primary_category"] == "cs.LG"
    else:
        assert rows["0704.0004"]["primary_category"] == "cs.NOTREAL"
    if categories == "drop" and abstracts == "keep":
        assert rows["0704.0006"]["categories"] == ["cs.AI"]


@pytest.mark.e2e
def test_the_workflow_counts_and_drops_as_configured(tmp_path: Path):
    from workflow_runner import snakemake

    config = {
        "snapshot": {
            "source": str(_odd_snapshot(tmp_path)),
            "missing_abstract": "drop",
            "unknown_categories": "drop",
        }
    }
    snakemake(tmp_path, "--", layout.CORPUS_MANIFEST, config=config)
    manifest = json.loads((tmp_path / layout.CORPUS_MANIFEST).read_text())
    assert manifest["records"] == 2
    assert manifest["record_checks"]["missing_abstract"]["dropped"] == 3
    assert manifest["record_checks"]["unknown_categories"]["categories"] == {"cs.NOTREAL": 2}
