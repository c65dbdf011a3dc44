"""Record keys: the clean DOI a row stores and the DOI keys of whole fields agree."""

from __future__ import annotations

import pyarrow as pa

from arxivcat.keys import clean_doi, doi_keys, every_doi_key

FIELDS = [
    None,
    "",
    "  ",
    "10.1/AbC",
    " doi:10.5/X ",
    "DOI: 10.5/x",
    "https://doi.org/10.1/a",
    "HTTPS://DX.DOI.ORG/10.1/A",
    "http://doi.org/10.1/a  https://doi.org/10.2/B",
    "10.1/a\t10.2/b",
    "10.48550/arXiv.1501.00007",
    "doi:",
]


def test_clean_doi_trims_drops_one_resolver_prefix_and_lowers():
    assert [clean_doi(field) for field in FIELDS] == [
        None,
        None,
        None,
        "10.1/abc",
        "10.5/x",
        "10.5/x",
        "10.1/a",
        "10.1/a",
        "10.1/a  https://doi.org/10.2/b",
        "10.1/a\t10.2/b",
        "10.48550/arxiv.1501.00007",
        None,
    ]
    assert clean_doi("https://doi.org/doi:10.1/a") == "doi:10.1/a"  # one prefix only


def test_doi_key_is_the_first_doi_of_the_clean_field_raw_or_stored():
    first = [(clean_doi(field) or "").split(maxsplit=1)[:1] for field in FIELDS]
    expected = [words[0] if words else None for words in first]
    assert doi_keys(pa.array(FIELDS, pa.string())).to_pylist() == expected
    stored = pa.array([clean_doi(field) for field in FIELDS], pa.string())
    assert doi_keys(stored).to_pylist() == expected


def test_every_doi_key_cleans_each_doi_of_a_field():
    fields = pa.chunked_array([pa.array(FIELDS[3:10], pa.string())])
    assert every_doi_key(fields).to_pylist() == [
        "10.1/abc",
        "10.5/x",
        "10.5/x",
        "10.1/a",
        "10.1/a",
        "10.1/a",
        "10.2/b",
        "10.1/a",
        "10.2/b",
    ]
