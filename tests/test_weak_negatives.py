"""Weak negatives from local files: real OpenAlex snapshot parts and API bodies, plain rows."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arxivcat.config import ConfigError, schema_defaults, validate_config
from arxivcat.negatives.openalex_works import LEVEL0_CONCEPTS
from arxivcat.negatives.prepare_weak_negatives import (
    WEAK_NEGATIVE_SCHEMA,
    WeakNegativeError,
    prepare_weak_negatives,
)
from arxivcat.negatives.settings import WeakNegativeSettings
from arxivcat.splits.weak_mixing import clean_candidates
from arxivcat.stage_settings import SettingsError


def _prepare(tmp_path: Path, source: str | Path, **settings) -> tuple[pa.Table, dict]:
    out = tmp_path / "out"
    manifest = prepare_weak_negatives(
        settings=WeakNegativeSettings.from_dict(
            {**schema_defaults("weak_negatives"), "source": str(source), **settings}
        ),
        table_path=out / "weak_negatives.parquet",
        digest_path=out / "weak_negatives.sha256",
        cache_dir=tmp_path / "cache",
        manifest_path=out / "weak_negatives.manifest.json",
    )
    return pq.read_table(out / "weak_negatives.parquet"), manifest


def _snapshot_parts(shared: Path) -> Path:
    return shared / "data" / "openalex" / "snapshot" / "go-openalex" / "data" / "works"


def test_snapshot_parts_legacy_inverted_index_and_filters(tmp_path, shared):
    table, manifest = _prepare(tmp_path, _snapshot_parts(shared))
    assert table.schema.equals(WEAK_NEGATIVE_SCHEMA)
    rows = {row["id"]: row for row in table.to_pylist()}
    # W2098696036 (2015, Medicine) has its abstract wrapped as {"IndexLength", "InvertedIndex"}.
    sleep = rows["W2098696036"]
    assert sleep["abstract"].startswith("Background: Sleep disorders are prevalent complication")
    assert sleep["doi"] == "10.5812/numonthly.23849"
    assert sleep["year"] == 2015 and sleep["source"] == "openalex"
    # 2008 works are before min_year; the 2023 part (grants) has no abstracts at all.
    assert "W1612067013" not in rows
    assert all(row["year"] >= 2010 for row in rows.values())
    assert all(row["title"] and row["abstract"] for row in rows.values())
    assert manifest["records"] == len(rows) == 9
    assert manifest["records_read"] == 77
    assert len(manifest["source_sha256"]) == 2


def test_outputs_digest_and_manifest_agree(tmp_path, shared):
    _, manifest = _prepare(tmp_path, _snapshot_parts(shared))
    out = tmp_path / "out"
    sha = hashlib.sha256((out / "weak_negatives.parquet").read_bytes()).hexdigest()
    assert (out / "weak_negatives.sha256").read_text() == sha  # the digest alone
    on_disk = json.loads((out / "weak_negatives.manifest.json").read_text())
    assert on_disk == manifest
    assert on_disk["sha256"] == sha and on_disk["records"] == 9
    assert on_disk["source"] == str(_snapshot_parts(shared))
    assert on_disk["retrieved"].endswith("Z")
    assert not list(out.glob("*.partial"))


def test_api_bodies_drop_cs_arxiv_and_duplicates(tmp_path, shared):
    api = shared / "data" / "openalex" / "api"
    table, manifest = _prepare(tmp_path, api)
    ids = table.column("id").to_pylist()
    assert len(ids) == len(set(ids))
    assert ids.count("W3108703640") == 1  # twice in the count-259 page, with different content
    titles = [" ".join(t.lower().split()) for t in table.column("title").to_pylist()]
    assert len(titles) == len(set(titles))
    # The snowball file's arXiv works are gone: arXiv location only / arXiv DOI only.
    assert "W2807650837" not in ids and "W2525778437" not in ids  # arXiv location / arXiv DOI
    assert manifest["dropped"]["on arXiv"] > 0
    assert manifest["dropped"]["computer science"] > 0
    assert manifest["dropped"]["duplicate"] >= 1
    assert all(doi is None or doi == doi.lower() for doi in table.column("doi").to_pylist())


def test_plain_jsonl_and_parquet_rows(tmp_path):
    rows = [
        {
            "title": "Soil  carbon in alpine meadows",
            "abstract": "We measure\nsoil carbon.",
            "year": 2015,
        },
        {"title": "Soil carbon in Alpine meadows!", "abstract": "Duplicate title.", "year": 2016},
        {"title": "Old paper", "abstract": "Too old.", "year": 1999},
        {"title": "No abstract", "abstract": ""},
        {"id": "X1", "title": "Undated", "abstract": "Kept.", "doi": "https://doi.org/10.1/ABC"},
    ]
    jsonl = tmp_path / "plain.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    table, _ = _prepare(tmp_path, jsonl)
    got = table.to_pylist()
    assert [r["title"] for r in got] == ["Soil carbon in alpine meadows", "Undated"]
    assert got[0]["abstract"] == "We measure soil carbon."
    assert got[0]["id"].startswith("local:") and got[0]["source"] == "local"
    assert got[1] == {
        "id": "X1",
        "title": "Undated",
        "abstract": "Kept.",
        "doi": "10.1/abc",
        "year": None,
        "source": "local",
    }
    parquet = tmp_path / "plain.parquet"
    pq.write_table(pa.Table.from_pylist(rows), parquet)
    table2, _ = _prepare(tmp_path / "p", parquet)
    assert table2.column("title").to_pylist() == ["Soil carbon in alpine meadows", "Undated"]


def test_gzip_jsonl_of_api_works_and_truncated_gzip(tmp_path, shared):
    page = shared / "data" / "openalex" / "api" / "rkrug_openalexPro"
    works = json.loads((page / "json_files_page_2_count259_final_page.json").read_text())["results"]
    part = tmp_path / "part_000.gz"
    with gzip.open(part, "wt", encoding="utf-8") as out:
        for work in works:
            out.write(json.dumps(work) + "\n")
    table, manifest = _prepare(tmp_path, part)
    assert manifest["records_read"] == 59
    assert 0 < table.num_rows <= 58
    broken = tmp_path / "broken" / "part_000.gz"
    broken.parent.mkdir()
    broken.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    with pytest.raises(WeakNegativeError, match=r"part_000\.gz"):
        _prepare(tmp_path / "b", broken)
    assert not (tmp_path / "b" / "out" / "weak_negatives.parquet").exists()


def test_missing_source_and_nothing_usable_are_clear_errors(tmp_path):
    with pytest.raises(WeakNegativeError, match="no such file"):
        _prepare(tmp_path, tmp_path / "absent.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"title": "t", "abstract": ""}) + "\n")
    with pytest.raises(WeakNegativeError, match="no usable weak negatives"):
        _prepare(tmp_path, empty)
    assert not (tmp_path / "out" / "weak_negatives.parquet").exists()
    assert not (tmp_path / "out" / "weak_negatives.sha256").exists()


def test_settings_are_the_validated_block_and_nothing_else(default_config):
    block = default_config["weak_negatives"]
    settings = WeakNegativeSettings.from_dict(block, "weak_negatives")
    assert settings.source == "openalex" and settings.min_year == 2010
    assert settings.openalex.seed == 20230227
    # The reference's concepts: the level-0 ones but Computer science, Engineering, Mathematics
    # and Physics.
    left_out = {"Computer science", "Engineering", "Mathematics", "Physics"}
    reference = {cid for name, cid in LEVEL0_CONCEPTS.items() if name not in left_out}
    assert set(settings.openalex.concepts) == reference and len(reference) == 15
    assert settings.to_dict() == block
    with pytest.raises(SettingsError, match=r"^weak_negatives\.openalex\.count: missing"):
        WeakNegativeSettings.from_dict(
            {**block, "openalex": {k: v for k, v in block["openalex"].items() if k != "count"}},
            "weak_negatives",
        )
    with pytest.raises(SettingsError, match=r"^weak_negatives\.api_key: unknown key"):
        WeakNegativeSettings.from_dict({**block, "api_key": "x"}, "weak_negatives")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"openalex": {"mode": "random"}}, "weak_negatives.openalex.mode"),
        ({"openalex": {"per_page": 500}}, "weak_negatives.openalex.per_page"),
        ({"openalex": {"concepts": ["Biology"]}}, "weak_negatives.openalex.concepts.0"),
        ({"openalex": {"api_key": "secret"}}, "weak_negatives.openalex"),
    ],
)
def test_bad_settings_are_one_line_config_errors(schema, block, message):
    config = {"experiments": {"x": {"labels": ["cs.CV"]}}, "weak_negatives": block}
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")) as info:
        validate_config(config, schema)
    assert "\n" not in str(info.value)


def test_duplicate_pass_agrees_with_the_splits_stage_on_the_same_paper(tmp_path):
    rows = [
        {"id": "A", "title": "Deep-sea fish stocks", "doi": "https://doi.org/10.1/X"},
        {"id": "B", "title": "Deepsea ﬁsh stocks", "doi": None},  # ligature, no hyphen: A
        {"id": "C", "title": "Coral reefs", "doi": "doi:10.1/x"},  # A's DOI
        {"id": "D", "title": "Coral reefs — a review", "doi": None},  # a different title
        {"id": "E", "title": "Coral reefs, a review", "doi": None},
    ]
    jsonl = tmp_path / "plain.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps({**r, "abstract": "A.", "year": 2015}) for r in rows) + "\n",
        encoding="utf-8",
    )
    table, manifest = _prepare(tmp_path, jsonl)
    assert table.column("id").to_pylist() == ["A", "D", "E"]
    assert manifest["dropped"] == {"duplicate": 2}
    nothing = pa.chunked_array([], pa.string())
    pool = clean_candidates(table, nothing, nothing)
    assert (pool.repeats, pool.table.num_rows) == (0, 3)  # what this stage kept, it keeps
