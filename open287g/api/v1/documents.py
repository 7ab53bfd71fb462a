"""/v1/documents: MOA documents (list, full-text search with `q`, export), one document,
and one document's page texts (`/v1/documents/{id}/text`: never part of a list)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from open287g.api.problems import Problem
from open287g.api.v1.http import cache_headers, etag_for, json_response, not_modified
from open287g.api.v1.params import Param, parse_params, shown
from open287g.api.v1.resource import Resource
from open287g.db.queries import changes, documents
from open287g.db.queries.documents import DocumentRecord
from open287g.db.queries.ids import BadId, from_global_id, to_global_id
from open287g.db.queries.pagination import Page


class DocumentRow(BaseModel):
    id: str
    file_name: str
    url: str | None = Field(description="Where ICE published it.")
    sha256: str
    bytes: int
    pages: int | None
    fetched_at: dt.datetime
    status: str = Field(description="read, partial or unreadable")
    reason: str | None
    text_method: str = Field(description="text-layer, ocr, mixed or none")
    signed_on: dt.date | None = Field(description="Signing date read from the MOA.")
    program_model: str | None
    agency_signatory_name: str | None
    agency_signatory_title: str | None
    agency_signatory_agency: str | None
    agency_signatory_signed_on: dt.date | None
    ice_signatory_name: str | None
    ice_signatory_title: str | None
    ice_signatory_signed_on: dt.date | None
    points_of_contact: list[str]
    agreement_ids: list[str]
    match_page: int | None = Field(description="With `q`: the best-matching page.")
    snippet: str | None = Field(description="With `q`: that page's matches between « and ».")


class PageTextRow(BaseModel):
    number: int
    method: str = Field(description="text-layer, ocr or none")
    engine: str | None
    confidence: float | None = Field(description="OCR mean word confidence (0–1).")
    reason: str | None
    text: str


class DocumentTextRow(BaseModel):
    id: str
    pages: list[PageTextRow]


SEARCH = Param(
    "q",
    "string",
    'Full-text search of the documents\' text (words, "a phrase", -excluded); best first.'
    " Blank is the same as absent: every document, in id order.",
)


def _value(record: DocumentRecord, name: str) -> str | None:
    values = record.fields.get(name)
    return values[0].value if values else None


def _date(record: DocumentRecord, name: str) -> dt.date | None:
    value = _value(record, name)
    return dt.date.fromisoformat(value) if value else None


async def _page(
    conn: AsyncConnection, values: dict[str, Any], limit: int, cursor: str | None
) -> Page[DocumentRecord]:
    if values["q"] and values["q"].strip():
        # A blank `q` (spaces, `%1E`) is no search, like an empty one (params.py) and
        # like the other collections' `q`: the OpenAPI pattern admits it, so it must work.
        return await documents.search_documents(conn, values["q"], first=limit, after=cursor)
    return await documents.document_page(conn, first=limit, after=cursor)


async def document_rows(
    conn: AsyncConnection, items: Sequence[DocumentRecord]
) -> list[dict[str, Any]]:
    return [
        {
            "id": to_global_id("Document", r.id),
            "file_name": r.file_name,
            "url": r.url,
            "sha256": r.sha256,
            "bytes": r.bytes,
            "pages": r.pages,
            "fetched_at": r.fetched_at,
            "status": r.status,
            "reason": r.reason,
            "text_method": r.text_method,
            "signed_on": r.signed_on,
            "program_model": r.program_model,
            "agency_signatory_name": _value(r, "agency_signatory.name"),
            "agency_signatory_title": _value(r, "agency_signatory.title"),
            "agency_signatory_agency": _value(r, "agency_signatory.agency"),
            "agency_signatory_signed_on": _date(r, "agency_signatory.signed_on"),
            "ice_signatory_name": _value(r, "ice_signatory.name"),
            "ice_signatory_title": _value(r, "ice_signatory.title"),
            "ice_signatory_signed_on": _date(r, "ice_signatory.signed_on"),
            "points_of_contact": [v.value for v in r.fields.get("point_of_contact", []) if v.value],
            "agreement_ids": [to_global_id("Agreement", a) for a in r.agreement_ids],
            "match_page": r.match_page,
            "snippet": r.snippet,
        }
        for r in items
    ]


DOCUMENTS = Resource(
    "documents",
    "Document",
    DocumentRow,
    (SEARCH,),
    _page,
    documents.documents_by_ids,
    document_rows,
)


async def document_text(request: Request) -> Response:
    """Every page's text of one document, with how it was obtained."""
    parse_params(request, ())
    global_id = request.path_params["id"]
    try:
        type_name, key = from_global_id(global_id)
    except BadId:
        type_name, key = "", ""
    if type_name != "Document" or not key.isdigit():
        raise Problem(404, f"no Document with id {shown(global_id)}")
    async with request.app.state.engine.connect() as conn:
        version = await changes.data_version(conn)
        etag = etag_for(request, version)
        cached = not_modified(request, etag, version)
        if cached is not None:
            return cached
        found = await documents.documents_by_ids(conn, [int(key)])
        if int(key) not in found:
            raise Problem(404, f"no Document with id {shown(global_id)}")
        pages = await documents.document_text(conn, int(key))
    body = {
        "data": {
            "id": global_id,
            "pages": [
                {
                    "number": p.number,
                    "method": p.method,
                    "engine": p.engine,
                    "confidence": p.confidence,
                    "reason": p.reason,
                    "text": p.text,
                }
                for p in pages
            ],
        },
        "data_version": version.version,
        **({"notice": version.notice} if version.notice else {}),
    }
    return json_response(body, cache_headers(etag, version))
