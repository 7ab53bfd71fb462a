"""MOA documents in GraphQL (issue 13) beyond their declaration
(`open287g.db.entities.document`): the arguments of a document's page text
(`entities.page_text`) and of the `documents(search:)` page, which both paths read.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import strawberry

from open287g.db.entities.declare import ID_ORDER, ConnectionOrder
from open287g.db.queries import documents
from open287g.db.queries.bounds import check_list
from open287g.db.queries.pagination import PageQuery, Window


def page_text_arguments(
    pages: Annotated[
        list[int] | None,
        strawberry.argument(description="Only these page numbers (1 = first; all when absent)."),
    ] = None,
) -> dict[str, Any]:
    """`Document.pageText`'s arguments, for the rows `entities.page_text` computes. At
    most MAX_TEXT_PAGES numbers (no more pages are served): an unbounded list (30,000
    numbers in a 64 KB body, under each of 62 documents) cost 0.9 s of event loop to
    compile and 10 MB per cached plan."""
    if pages is not None:
        check_list("pages", pages, documents.MAX_TEXT_PAGES)
    return {"pages": pages}


def documents_arguments(
    search: str | None, shown: Window
) -> tuple[PageQuery, str, ConnectionOrder]:
    """`documents`: the page `documents.documents_page` maps (REST's `/v1/documents` reads
    the same), its cursors' ordering and its order, checked in one order by both paths."""
    query, ordering, order = documents.documents_page(search, shown.query_after)
    return query, ordering, dataclasses.replace(ID_ORDER, order=order)
