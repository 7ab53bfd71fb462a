"""/v1/documents: MOA documents (list, full-text search with `q`, export), one document,
and one document's page texts (`/v1/documents/{id}/text`: never part of a list)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import Response

from open287g.api.v1.compiled import item_row
from open287g.api.v1.resource import Collection, Row
from open287g.db.entities.declare import ID_DESCRIPTION
from open287g.db.entities.document import DOCUMENT
from open287g.db.entities.page_text import PAGE_TEXT
from open287g.db.queries import changes, documents
from open287g.db.queries.ids import BadId, from_global_id
from open287g.db.rows import Listing, computed_sql, fetch_row
from open287g.web.params import Param, parse_params, shown
from open287g.web.problems import Problem
from open287g.web.responses import cache_headers, etag_for, json_response, not_modified


class PageTextRow(BaseModel):
    __doc__ = PAGE_TEXT.description
    number: int = Field(description=PAGE_TEXT.words("number"))
    method: str = Field(description=PAGE_TEXT.words("method"))
    engine: str | None = Field(description=PAGE_TEXT.words("engine"))
    confidence: float | None = Field(description=PAGE_TEXT.words("confidence"))
    reason: str | None = Field(description=PAGE_TEXT.words("reason"))
    text: str = Field(description=PAGE_TEXT.words("text"))


class DocumentTextRow(BaseModel):
    """A document's text, page by page, with how each page was read."""

    id: str = Field(description=ID_DESCRIPTION)
    pages: list[PageTextRow] = Field(description="Every page, in order, with how it was read.")


SEARCH = Param(
    "q",
    "string",
    'Full-text search of the documents\' text (English stems: words, "a phrase", a OR b,'
    " -excluded); best first, the words of a plain search in a row before the words apart."
    " Blank is the same as absent: every document, in id order.",
)


def _listing(values: dict[str, Any], cursor: str | None) -> Listing:
    # A blank `q` (spaces, `%1E`) is no search, like an empty one (params.py) and like
    # the other collections' `q`: the OpenAPI pattern admits it, so it must work.
    search = values["q"] if values["q"] and values["q"].strip() else None
    query, ordering, order = documents.documents_page(search, cursor)
    return Listing(query, ordering, order=order)


# On the compiler's path like every declared collection: a page (a search's too) is one
# statement, rows from the declaration (`open287g.db.entities.document`).
DOCUMENTS = Collection("documents", DOCUMENT, (SEARCH,), _listing)


async def agreement_document(conn: AsyncConnection, agreement_id: int) -> Row | None:
    """An agreement's current MOA (the one its moaUrl names) as /v1/documents/{id} gives
    it, or None."""
    document_id = await documents.current_document_id(conn, agreement_id)
    return None if document_id is None else await item_row(DOCUMENTS, conn, document_id)


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
        # The rows of Document.pageText, compiled from their declaration (all pages).
        [pages] = await fetch_row(conn, computed_sql(PAGE_TEXT, {}, int(key)))
    body = {
        "data": {"id": global_id, "pages": orjson.loads(pages)},
        "data_version": version.version,
        **({"notice": version.notice} if version.notice else {}),
    }
    return json_response(body, cache_headers(etag, version))
