"""OAI-PMH ``ListRecords`` replies parsed into harvest rows (rule harvest_oai's parser).

The parser matches elements by local name, so it accepts pages whose metadata lost its default
namespace (the ``jtimdwyer`` pages, saved through BeautifulSoup, have ``<arXiv>`` without xmlns).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from arxivcat.data import corpus
from arxivcat.errors import ArxivcatError

PREFIXES = ("arXiv", "arXivRaw")

#: The harvest table: the corpus columns plus the OAI datestamp and the deletion flag.
HARVEST_SCHEMA = pa.schema(
    [
        *[column.with_nullable(column.name != "id") for column in corpus.CORPUS_SCHEMA],
        pa.field("datestamp", pa.date32(), nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
    ]
)


class OAIError(ArxivcatError, RuntimeError):
    """An OAI-PMH error reply or a harvest that failed for good, in one line."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class IncompleteReplyError(OAIError):
    """A reply that is not complete XML (a cut transfer): worth another attempt."""


@dataclass
class Page:
    """One parsed ``ListRecords`` reply."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    token: str | None = None
    complete_list_size: int | None = None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    return child.text if child is not None and child.text is not None else None


def _record_row(record: ET.Element, where: str) -> dict[str, Any]:
    header = _child(record, "header")
    if header is None:
        raise OAIError(f"{where}: record without <header>")
    identifier = (_text(header, "identifier") or "").strip()
    datestamp = corpus._parse_date(_text(header, "datestamp"))
    paper_id = identifier.rpartition(":")[2]
    if not paper_id or datestamp is None:
        raise OAIError(f"{where}: record header lacks an identifier or a datestamp")
    empty = {name: None for name in HARVEST_SCHEMA.names}
    if header.get("status") == "deleted":
        return {**empty, "id": corpus._VERSION_SUFFIX.sub("", paper_id), "categories": [],
                "primary_category": "", "datestamp": datestamp, "deleted": True}  # fmt: skip
    metadata = _child(record, "metadata")
    body = next(iter(metadata), None) if metadata is not None else None
    if body is None or _local(body.tag) not in PREFIXES:
        found = _local(body.tag) if body is not None else "nothing"
        raise OAIError(
            f"{where}: record {identifier} has <{found}> metadata; expected arXiv or arXivRaw"
        )
    raw: dict[str, Any] = {
        "id": _text(body, "id"),
        "title": _text(body, "title"),
        "abstract": _text(body, "abstract"),
        "categories": _text(body, "categories"),
        "doi": _text(body, "doi"),
        "update_date": datestamp.isoformat(),
    }
    if _local(body.tag) == "arXivRaw":
        dates = [_text(v, "date") for v in body if _local(v.tag) == "version"]
        raw["versions"] = [{"created": date} for date in dates if date]
    else:
        raw["versions"] = [{"created": _text(body, "created")}]
    try:
        row = corpus.normalize_record(raw)
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise OAIError(f"{where}: bad record {identifier}: {error}") from None
    return {**row, "datestamp": datestamp, "deleted": False}


def parse_page(content: bytes, where: str) -> Page:
    """Parse a ``ListRecords`` reply into normalized rows and the resumption token.

    Args:
        content: The reply body.
        where: What to name in error messages (URL or file).

    Raises:
        OAIError: For an OAI error reply (``code`` set), unparsable XML or a bad record.
    """
    try:
        root = ET.fromstring(content)
    except ET.ParseError as error:
        raise IncompleteReplyError(f"{where}: not a complete OAI-PMH XML reply ({error})") from None
    if _local(root.tag) != "OAI-PMH":
        raise OAIError(f"{where}: not an OAI-PMH reply (root element <{_local(root.tag)}>)")
    error = _child(root, "error")
    if error is not None:
        code = error.get("code", "unknown")
        message = " ".join((error.text or "").split())
        raise OAIError(f"{where}: OAI-PMH error {code}: {message}", code=code)
    listing = _child(root, "ListRecords")
    if listing is None:
        raise OAIError(f"{where}: reply has neither <ListRecords> nor <error>")
    page = Page()
    for index, element in enumerate(listing, start=1):
        name = _local(element.tag)
        if name == "record":
            page.rows.append(_record_row(element, f"{where}: record {index}"))
        elif name == "resumptionToken":
            page.token = (element.text or "").strip() or None
            size = element.get("completeListSize")
            page.complete_list_size = int(size) if size and size.isdigit() else None
    return page
