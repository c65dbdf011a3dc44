"""The JSON line of a generated snapshot record, written as arXiv's Kaggle file writes it.

Compact and ASCII-escaped, the fields in the snapshot's order: the same bytes as
``json.dumps(record, ensure_ascii=True, separators=(",", ":"))``, about twice as fast (a test
checks the two agree byte for byte).
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii
from typing import Any

#: The fields of a snapshot record, in the snapshot's order.
FIELDS = (
    "id",
    "submitter",
    "authors",
    "title",
    "comments",
    "journal-ref",
    "doi",
    "report-no",
    "categories",
    "license",
    "abstract",
    "versions",
    "update_date",
    "authors_parsed",
)

_esc = encode_basestring_ascii  # the C escaper behind json.dumps(ensure_ascii=True)
_VERSION_JSON = '{"version":"%s","created":"%s"}'
_PARSED_JSON = "[%s,%s,%s]"
_RECORD_JSON = (
    '{"id":%s,"submitter":%s,"authors":%s,"title":%s,"comments":%s,"journal-ref":%s,"doi":%s,'
    '"report-no":%s,"categories":%s,"license":%s,"abstract":%s,"versions":[%s],'
    '"update_date":%s,"authors_parsed":[%s]}'
)


def json_line(record: dict[str, Any]) -> str:
    """Serialise a generated record (the :data:`FIELDS`, versions and parsed authors)."""
    versions = ",".join([_VERSION_JSON % (v["version"], v["created"]) for v in record["versions"]])
    parsed = ",".join(
        [_PARSED_JSON % (_esc(a), _esc(b), _esc(c)) for a, b, c in record["authors_parsed"]]
    )
    return _RECORD_JSON % (
        _esc(record["id"]),
        _esc(record["submitter"]),
        _esc(record["authors"]),
        _esc(record["title"]),
        _nullable(record["comments"]),
        _nullable(record["journal-ref"]),
        _nullable(record["doi"]),
        _nullable(record["report-no"]),
        _esc(record["categories"]),
        _nullable(record["license"]),
        _esc(record["abstract"]),
        versions,
        _esc(record["update_date"]),
        parsed,
    )


def _nullable(value: str | None) -> str:
    return "null" if value is None else _esc(value)
