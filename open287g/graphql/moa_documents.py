"""GraphQL types of MOA documents (issue 13): `Document`, its signatories and extracted
values with evidence, `Query.documents(search:)` and `Agreement.document`.

A document's page text is a field of its own (`pageText`), never part of a list unless a
client asks for it; the cost limiter charges it as a scan (`limits.SCAN_COSTS`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from open287g.db.models.enums import ProgramModelCode
from open287g.db.queries import documents
from open287g.db.queries.documents import DocumentRecord, FieldValue
from open287g.db.queries.ids import to_global_id
from open287g.db.queries.pagination import page_size
from open287g.graphql.context import Info
from open287g.graphql.entity_types import load_node
from open287g.graphql.relay import Edge, Node, PageInfo, page_edges

if TYPE_CHECKING:
    from open287g.graphql.types import Agreement


@strawberry.type(description="A value read from the document, with its evidence.")
class ExtractedValue:
    field: str
    value: str | None
    page: int | None
    method: str | None
    confidence: float | None
    reason: str | None = strawberry.field(description="Why the value is null, when it is.")


@strawberry.type
class Signatory:
    name: str | None
    title: str | None
    agency: str | None = strawberry.field(description="The agency as written on the MOA.")
    signed_on: dt.date | None
    page: int | None = strawberry.field(description="The page of the signature block.")


@strawberry.type
class PageText:
    number: int
    method: str = strawberry.field(description="text-layer, ocr or none")
    engine: str | None
    confidence: float | None = strawberry.field(description="OCR mean word confidence (0–1).")
    reason: str | None
    text: str


@strawberry.type(description="Where a search matched: the best page and a highlighted snippet.")
class DocumentMatch:
    page: int
    rank: float
    snippet: str = strawberry.field(description="Matches between « and ».")


def _value(fields: dict[str, list[FieldValue]], name: str) -> FieldValue | None:
    values = fields.get(name)
    return values[0] if values else None


def _signatory(record: DocumentRecord, role: str) -> Signatory:
    parts = {p: _value(record.fields, f"{role}.{p}") for p in ("name", "title", "agency")}
    date = _value(record.fields, f"{role}.signed_on")
    pages = [v.page for v in (*parts.values(), date) if v is not None and v.value is not None]
    return Signatory(
        name=parts["name"].value if parts["name"] else None,
        title=parts["title"].value if parts["title"] else None,
        agency=parts["agency"].value if parts["agency"] else None,
        signed_on=dt.date.fromisoformat(date.value) if date and date.value else None,
        page=pages[0] if pages else None,
    )


@strawberry.type(description="A 287(g) MOA as ICE published it, stored once per sha256.")
class Document(Node):
    record: strawberry.Private[DocumentRecord]
    url: str | None
    sha256: str
    bytes: int
    pages: int | None = strawberry.field(description="Number of pages.")
    file_name: str
    fetched_at: dt.datetime
    status: str = strawberry.field(description="read, partial or unreadable")
    reason: str | None
    text_method: str = strawberry.field(description="text-layer, ocr, mixed or none")
    signed_on: dt.date | None = strawberry.field(description="Signing date read from the MOA.")
    program_model: ProgramModelCode | None
    match: DocumentMatch | None = strawberry.field(description="Set by `documents(search:)`.")

    @classmethod
    def of(cls, record: DocumentRecord) -> Document:
        match = None
        if record.match_page is not None:
            match = DocumentMatch(
                page=record.match_page, rank=record.rank or 0.0, snippet=record.snippet or ""
            )
        return cls(
            id=strawberry.ID(to_global_id("Document", record.id)),
            record=record,
            url=record.url,
            sha256=record.sha256,
            bytes=record.bytes,
            pages=record.pages,
            file_name=record.file_name,
            fetched_at=record.fetched_at,
            status=record.status,
            reason=record.reason,
            text_method=record.text_method,
            signed_on=record.signed_on,
            program_model=ProgramModelCode(record.program_model) if record.program_model else None,
            match=match,
        )

    @strawberry.field
    def agency_signatory(self) -> Signatory:
        return _signatory(self.record, "agency_signatory")

    @strawberry.field
    def ice_signatory(self) -> Signatory:
        return _signatory(self.record, "ice_signatory")

    @strawberry.field(description="The agency's points of contact (Appendix A), as written.")
    def points_of_contact(self) -> list[str]:
        return [v.value for v in self.record.fields.get("point_of_contact", []) if v.value]

    @strawberry.field(description="Every extracted value with page, method and confidence.")
    def evidence(self) -> list[ExtractedValue]:
        return [
            ExtractedValue(
                field=name,
                value=v.value,
                page=v.page,
                method=v.method,
                confidence=v.confidence,
                reason=v.reason,
            )
            for name, values in sorted(self.record.fields.items())
            for v in values
        ]

    @strawberry.field(description="The agreements whose MOA link names this document.")
    async def agreements(
        self, info: Info
    ) -> list[Annotated[Agreement, strawberry.lazy("open287g.graphql.types")]]:
        found = await asyncio.gather(
            *(load_node(info, "Agreement", key) for key in self.record.agreement_ids)
        )
        return [agreement for agreement in found if agreement is not None]

    @strawberry.field(
        description="The text of the document's pages (all, or those in `pages`); costs as "
        "many nodes as a document has pages."
    )
    async def page_text(self, info: Info, pages: list[int] | None = None) -> list[PageText]:
        async with info.context.engine.connect() as conn:
            found = await documents.document_text(conn, self.record.id)
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


@strawberry.type
class DocumentConnection:
    edges: list[Edge[Document]]
    page_info: PageInfo


async def documents_field(
    info: Info, search: str | None, first: int | None, after: str | None
) -> DocumentConnection:
    """`Query.documents`: all documents in id order, or those matching `search` (full
    text, web-search syntax), best first, each with its best page and a snippet."""
    size = page_size(first)
    async with info.context.engine.connect() as conn:
        if search is None:
            page = await documents.document_page(conn, first=size, after=after)
        else:
            page = await documents.search_documents(conn, search, first=size, after=after)
    edges, page_info = page_edges(page, [Document.of(r) for r in page.items])
    return DocumentConnection(edges=edges, page_info=page_info)


async def document_of_agreement(info: Info, agreement_id: int) -> Document | None:
    record = await info.context.loaders.document_of_agreement.load(agreement_id)
    return Document.of(record) if record is not None else None


async def document_node(info: Info, document_id: int) -> Document | None:
    async with info.context.engine.connect() as conn:
        found = await documents.documents_by_ids(conn, [document_id])
    return Document.of(found[document_id]) if document_id in found else None
