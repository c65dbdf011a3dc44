"""Reading OpenAlex works: abstracts from inverted indexes, the arXiv and CS tests, errors."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from arxivcat.io.http import retry_after, server_message
from arxivcat.negatives.openalex_api import works_filter
from arxivcat.negatives.openalex_works import (
    is_arxiv,
    is_computer_science,
    rebuild_abstract,
    top_level0_concept,
    work_row,
)


def _works(shared: Path, name: str) -> dict[str, dict]:
    path = shared / "data" / "openalex" / "api" / "rkrug_openalexPro" / name
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    return {work["id"].removeprefix("https://openalex.org/"): work for work in results}


@pytest.fixture(scope="module")
def biodiversity(shared) -> dict[str, dict]:
    return _works(shared, "biodiversity_AND_finance_to2010_cursor_page1.json")


@pytest.fixture(scope="module")
def snowball(shared) -> dict[str, dict]:
    return _works(shared, "snowball_test_cited_json_results_page_1.json")


def test_rebuild_orders_words_and_skips_gaps():
    index = {"world": [2], "hello": [0, 5], "again": [6], "  spaced\n": [9]}
    assert rebuild_abstract(index) == "hello world hello again spaced"
    assert rebuild_abstract(None) == "" and rebuild_abstract({}) == ""
    wrapped = {"IndexLength": 10, "InvertedIndex": index}
    assert rebuild_abstract(wrapped) == rebuild_abstract(index)
    assert rebuild_abstract(json.dumps(wrapped)) == rebuild_abstract(index)


def test_real_abstract_with_position_gaps(biodiversity):
    work = biodiversity["W2125576237"]  # 3192 tokens over positions 0..3559
    index = work["abstract_inverted_index"]
    positions = sorted(p for ps in index.values() for p in ps)
    assert len(positions) == 3192 and positions[-1] == 3559
    by_position = {p: word for word, ps in index.items() for p in ps}
    expected = " ".join(" ".join(by_position[p] for p in positions).split())
    text = rebuild_abstract(index)
    assert text == expected
    assert text.split()[0] == by_position[0].strip()


def test_legacy_snapshot_wrapper(shared):
    part = (
        shared / "data/openalex/snapshot/go-openalex/data/works/updated_date=2021-11-03/part_000.gz"
    )
    with gzip.open(part, "rt", encoding="utf-8") as handle:
        works = [json.loads(line) for line in handle]
    wrapped = [w for w in works if w.get("abstract_inverted_index")]
    assert wrapped and all("InvertedIndex" in w["abstract_inverted_index"] for w in wrapped)
    for work in wrapped:
        index = work["abstract_inverted_index"]
        words = rebuild_abstract(index).split()
        tokens = sum(len(p) for p in index["InvertedIndex"].values())
        assert 0 < len(words) <= tokens <= index["IndexLength"]
        assert "IndexLength" not in words and "InvertedIndex" not in words


def test_arxiv_signals(snowball, biodiversity, shared):
    # Location only (indexed_in empty), DOI only (indexed_in datacite): both count.
    assert is_arxiv(snowball["W2807650837"])
    assert is_arxiv(snowball["W2525778437"])
    assert sum(is_arxiv(w) for w in snowball.values()) == 7
    assert not any(is_arxiv(w) for w in biodiversity.values())
    # bioRxiv is a different server; so is PsyArXiv, whatever its name contains.
    mosquito = _works(shared, "json_files_page_1_mosquito_vectors.json")
    assert not is_arxiv(mosquito["W4396790054"])
    work = copy.deepcopy(biodiversity["W2077467872"])
    work["locations"] = [
        {"source": {"id": "https://openalex.org/S4306402530", "display_name": "PsyArXiv"}}
    ]
    work["indexed_in"] = ["crossref"]
    assert not is_arxiv(work)
    work["doi"] = "https://doi.org/10.48550/arXiv.1609.08144"
    assert is_arxiv(work)


def test_computer_science_uses_top_concept_and_primary_field(biodiversity, snowball):
    low_score_cs = [
        w
        for w in biodiversity.values()
        if any(c["id"].endswith("C41008148") for c in w.get("concepts") or [])
    ]
    assert len(low_score_cs) == 37
    # Most of them are ecology or finance: the top level-0 concept decides, not presence.
    assert sum(is_computer_science(w) for w in low_score_cs) == 5
    assert sum(is_computer_science(w) for w in biodiversity.values()) == 5
    assert sum(is_computer_science(w) for w in snowball.values()) >= 36
    field_only = copy.deepcopy(biodiversity["W2077467872"])
    assert not is_computer_science(field_only)
    field_only["primary_topic"] = {"field": {"id": "https://openalex.org/fields/17"}}
    assert is_computer_science(field_only)
    assert top_level0_concept({"concepts": None}) is None


def test_work_row_cleans_title_abstract_and_doi():
    row = work_row(
        {
            "id": "https://openalex.org/W1",
            "title": " A\n title ",
            "doi": "https://doi.org/10.1/AbC",
            "publication_year": 2012,
            "abstract_inverted_index": {"b": [1], "a": [0]},
        }
    )
    assert row == {
        "id": "W1",
        "title": "A title",
        "abstract": "a b",
        "doi": "10.1/abc",
        "year": 2012,
        "source": "openalex",
    }


def test_filter_retry_after_and_error_message(shared):
    value = works_filter(["C1", "C2"], 2010)
    assert value == "concepts.id:C1|C2,publication_year:>2009,has_abstract:true"
    assert retry_after("3") == 3.0
    now = dt.datetime(2015, 10, 21, 7, 27, 50, tzinfo=dt.UTC)
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 10
    assert retry_after(None) is None and retry_after("soon") is None
    body = (
        shared / "data/openalex/api/rkrug_openalexPro/errors/http400_invalid_select_field.json"
    ).read_bytes()
    message = server_message(body)
    assert message.startswith("Invalid query parameters error.") and len(message) <= 300
    assert server_message(b"<html>Bad gateway</html>") == "<html>Bad gateway</html>"
