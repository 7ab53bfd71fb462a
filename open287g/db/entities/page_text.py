"""PageText: the text of a document's pages (`Document.pageText(pages:)`), a field of its
own, never part of a list unless a client asks for it (the cost limiter charges it as a
scan: `limits.SCAN_COSTS`). Its rows are computed from the field's arguments: the first
`MAX_TEXT_PAGES` pages of the document, those numbered in `pages` when given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from open287g.db.entities.declare import Column, Entity
from open287g.db.queries.documents import MAX_TEXT_PAGES
from open287g.db.queries.pagination import Rows

PAGE_TEXT = Entity(
    name="PageText",
    description="The text of one page of an MOA document, and how it was read.",
    table="document_pages {t}",
    key="{t}.page_number",
    node=False,
    columns=(
        Column("number", "{t}.page_number", int, "The page's number (1 = first page)."),
        Column("method", "{t}.method", str, "text-layer, ocr or none"),
        Column("engine", "{t}.engine", str | None, "The OCR engine and version, when OCR read it."),
        Column("confidence", "{t}.confidence", float | None, "OCR mean word confidence (0–1)."),
        Column("reason", "{t}.reason", str | None, "Why the page has no text, when it has none."),
        Column("text", "{t}.text", str, "The page's text."),
    ),
)


def page_text_rows(args: dict[str, Any], scope: str) -> Rows:
    """`scope`: the document's id (SQL over its row); `args["pages"]`: page numbers, or
    None for every page (of the first MAX_TEXT_PAGES; REST's /v1/documents/{id}/text too)."""
    pages = args.get("pages")
    first = (
        f"SELECT * FROM document_pages dp WHERE dp.document_id = {scope}"
        f" ORDER BY dp.page_number LIMIT {int(MAX_TEXT_PAGES)}"
    )
    if pages is None:
        return Rows(f"({first}) {{c}}", "{c}.page_number", {})
    # The numbers as an array literal in a text parameter: an array parameter costs asyncpg
    # a type introspection (three more statements) on each new connection.
    wanted = (
        f"(SELECT p.* FROM ({first}) p"
        " WHERE p.page_number = ANY(CAST(CAST(:pages AS text) AS int[])))"
    )
    literal = "{" + ",".join(str(int(page)) for page in pages) + "}"
    return Rows(f"{wanted} {{c}}", "{c}.page_number", {"pages": literal})


COMPUTED: dict[str, Callable[[dict[str, Any], str], Rows]] = {"PageText": page_text_rows}
