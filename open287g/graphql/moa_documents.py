"""MOA documents in GraphQL (issue 13) beyond their declaration
(`open287g.db.entities.document`): a document's page text and the `documents(search:)`
page both paths read.

A document's page text is a field of its own (`pageText`), never part of a list unless a
client asks for it; the cost limiter charges it as a scan (`limits.SCAN_COSTS`). It is
not declared in SQL: an operation asking for it runs on the fallback resolvers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import strawberry

from open287g.db.entities.declare import ID_ORDER, ConnectionOrder
from open287g.db.queries import documents
from open287g.db.queries.pagination import PageQuery, page_size
from open287g.graphql.context import Info


@strawberry.type
class PageText:
    number: int
    method: str = strawberry.field(description="text-layer, ocr or none")
    engine: str | None
    confidence: float | None = strawberry.field(description="OCR mean word confidence (0–1).")
    reason: str | None
    text: str


class DocumentExtras:
    key: Any

    @strawberry.field(
        description="The text of the document's pages (all, or those in `pages`); costs as "
        "many nodes as a document has pages."
    )
    async def page_text(self, info: Info, pages: list[int] | None = None) -> list[PageText]:
        async with info.context.engine.connect() as conn:
            found = await documents.document_text(conn, self.key)
        wanted = set(pages) if pages is not None else None
        return [
            PageText(
                number=p.number,
                method=p.method,
                engine=p.engine,
                confidence=p.confidence,
                reason=p.reason,
                text=p.text,
            )
            for p in found
            if wanted is None or p.number in wanted
        ]


def documents_arguments(
    search: str | None, first: int | None, after: str | None
) -> tuple[PageQuery, int, str, ConnectionOrder]:
    """`documents`: the page `documents.documents_page` maps (REST's `/v1/documents` reads
    the same), its size, its cursors' ordering and its order, checked in one order by
    both paths."""
    size = page_size(first)
    query, ordering, order = documents.documents_page(search, size, after)
    return query, size, ordering, dataclasses.replace(ID_ORDER, order=order)
