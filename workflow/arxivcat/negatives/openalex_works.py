"""OpenAlex works: abstracts, identifiers, and the arXiv and computer-science tests.

OpenAlex delivers works as JSON objects (API responses and S3 snapshot parts).  Abstracts come
only as an inverted index (word -> positions), wrapped as ``{"IndexLength": n, "InvertedIndex":
{...}}`` in old snapshot parts.  The tests here follow what the real data show (see
``shared/data/openalex/PROVENANCE.md``): a level-0 "Computer science" concept is attached with a low
score to many non-CS works, so the CS test uses the top-scoring level-0 concept and the primary
topic's field; arXiv shows up as a location on source S4306400194, ``indexed_in`` containing
"arxiv", or a DataCite arXiv DOI, and these signals disagree, so any one of them counts.
The API client that fetches works is :mod:`arxivcat.negatives.openalex_api`.
"""

from __future__ import annotations

import json
from typing import Any

from arxivcat.keys import ARXIV_DOI_PREFIX, clean_doi

OPENALEX_PREFIX = "https://openalex.org/"

#: Level-0 concept ids (as found in the data) by display name.
LEVEL0_CONCEPTS: dict[str, str] = {
    "Art": "C142362112",
    "Biology": "C86803240",
    "Business": "C144133560",
    "Chemistry": "C185592680",
    "Computer science": "C41008148",
    "Economics": "C162324750",
    "Engineering": "C127413603",
    "Environmental science": "C39432304",
    "Geography": "C205649164",
    "Geology": "C127313418",
    "History": "C95457728",
    "Materials science": "C192562407",
    "Mathematics": "C33923547",
    "Medicine": "C71924100",
    "Philosophy": "C138885662",
    "Physics": "C121332964",
    "Political science": "C17744445",
    "Psychology": "C15744967",
    "Sociology": "C144024400",
}


COMPUTER_SCIENCE_CONCEPT = LEVEL0_CONCEPTS["Computer science"]
COMPUTER_SCIENCE_FIELD = "fields/17"
ARXIV_SOURCE = "S4306400194"


def short_id(value: Any) -> str:
    """Return an OpenAlex id without its ``https://openalex.org/`` prefix (``W123``)."""
    return str(value or "").strip().removeprefix(OPENALEX_PREFIX)


def inverted_index_words(index: Any) -> dict[str, list[int]] | None:
    """Return the word -> positions mapping of an ``abstract_inverted_index`` value.

    Accepts the API's plain mapping, the legacy snapshot's ``{"IndexLength", "InvertedIndex"}``
    wrapper, and either of them serialised as a JSON string (as parquet exports hold it).
    """
    if index is None:
        return None
    if isinstance(index, str):
        try:
            index = json.loads(index)
        except json.JSONDecodeError:
            return None
    if not isinstance(index, dict):
        return None
    if "InvertedIndex" in index and isinstance(index["InvertedIndex"], dict):
        index = index["InvertedIndex"]
    return index


def rebuild_abstract(index: Any) -> str:
    """Rebuild an abstract from an inverted index, words ordered by position.

    Positions need not be contiguous (real indexes have gaps); missing positions are skipped.
    Whitespace is collapsed.  An absent or empty index gives the empty string.
    """
    words = inverted_index_words(index)
    if not words:
        return ""
    placed: list[tuple[int, str]] = []
    for word, positions in words.items():
        if isinstance(positions, int):
            positions = [positions]
        for position in positions or ():
            placed.append((int(position), str(word)))
    placed.sort(key=lambda item: item[0])
    return " ".join(" ".join(word for _, word in placed).split())


def is_work(record: dict[str, Any]) -> bool:
    """Whether a record looks like an OpenAlex work (rather than a plain title/abstract row)."""
    return "abstract_inverted_index" in record or short_id(record.get("id")).startswith("W")


def is_arxiv(work: dict[str, Any]) -> bool:
    """Whether a work is on arXiv: an arXiv location, ``indexed_in`` arxiv, or an arXiv DOI.

    Sources whose names merely contain "arxiv" (PsyArXiv, SocArXiv, ...) are different servers
    and do not count.
    """
    doi = clean_doi(work.get("doi")) or ""
    if doi.startswith(ARXIV_DOI_PREFIX):
        return True
    ids = work.get("ids") or {}
    if isinstance(ids, dict) and (clean_doi(ids.get("doi")) or "").startswith(ARXIV_DOI_PREFIX):
        return True
    if any(str(entry).lower() == "arxiv" for entry in work.get("indexed_in") or ()):
        return True
    locations = list(work.get("locations") or ())
    for key in ("primary_location", "best_oa_location"):
        if work.get(key):
            locations.append(work[key])
    for location in locations:
        source = (location or {}).get("source") or {}
        if short_id(source.get("id")) == ARXIV_SOURCE:
            return True
    return False


def top_level0_concept(work: dict[str, Any]) -> str | None:
    """Return the short id of the work's highest-scoring level-0 concept, or None."""
    best: tuple[float, str] | None = None
    for concept in work.get("concepts") or ():
        if not isinstance(concept, dict) or concept.get("level") != 0:
            continue
        score = float(concept.get("score") or 0.0)
        if best is None or score > best[0]:
            best = (score, short_id(concept.get("id")))
    return best[1] if best else None


def is_computer_science(work: dict[str, Any]) -> bool:
    """Whether a work is computer science: top level-0 concept CS, or primary topic field 17."""
    if top_level0_concept(work) == COMPUTER_SCIENCE_CONCEPT:
        return True
    topic = work.get("primary_topic") or {}
    field = (topic.get("field") or {}) if isinstance(topic, dict) else {}
    return short_id(field.get("id")) == COMPUTER_SCIENCE_FIELD


def work_row(work: dict[str, Any]) -> dict[str, Any]:
    """Return the weak-negative row of an OpenAlex work (title and abstract may be empty)."""
    year = work.get("publication_year")
    return {
        "id": short_id(work.get("id")),
        "title": " ".join(str(work.get("title") or work.get("display_name") or "").split()),
        "abstract": rebuild_abstract(work.get("abstract_inverted_index")),
        "doi": clean_doi(work.get("doi")),
        "year": int(year) if year not in (None, "") else None,
        "source": "openalex",
    }
