"""The Query type and the schema with its limits (SPEC "GraphQL")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

import strawberry
from strawberry.extensions import SchemaExtension

from open287g.db.queries import agencies, agreements, changes, jurisdictions, reference
from open287g.db.queries.agreements import AgreementDimension
from open287g.db.queries.detainers import DetainerDimension
from open287g.db.queries.ids import from_global_id, int_key_of
from open287g.db.queries.pagination import page_size
from open287g.errors import ClientError
from open287g.graphql import eager, moa_documents
from open287g.graphql.compiled import CompiledAgreementPages
from open287g.graphql.context import Info
from open287g.graphql.documents import CachedDocuments, DocumentCache
from open287g.graphql.errors import MaskedSchema
from open287g.graphql.inputs import (
    AgencyFilter,
    AgreementChangeKind,
    AgreementFilter,
    AgreementOrder,
    DetainerFilter,
    JurisdictionFilter,
    agreement_page_arguments,
)
from open287g.graphql.limits import QueryLimits
from open287g.graphql.quality import DataQuality
from open287g.graphql.relay import Node, page_edges
from open287g.graphql.stat_types import (
    AgreementStat,
    AgreementStatKey,
    Dataset,
    DetainerStat,
    detainer_stat_rows,
)
from open287g.graphql.types import (
    Agency,
    AgencyConnection,
    Agreement,
    AgreementChange,
    AgreementChangeConnection,
    AgreementConnection,
    Jurisdiction,
    JurisdictionConnection,
    ProgramModel,
)


@strawberry.type
class Query:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, key = from_global_id(id)
        loaders = info.context.loaders
        if type_name == "ProgramModel":
            model = await loaders.program_model.load(key)
            return ProgramModel.of(model) if model else None
        number = int_key_of(key)
        if number is None:
            return None
        if type_name == "Agreement":
            agreement = await loaders.agreement.load(number)
            return Agreement.of(agreement) if agreement else None
        if type_name == "Agency":
            agency = await loaders.agency.load(number)
            return Agency.of(agency) if agency else None
        if type_name == "Jurisdiction":
            jurisdiction = await loaders.jurisdiction.load(number)
            return Jurisdiction.of(jurisdiction) if jurisdiction else None
        if type_name == "Document":
            return await moa_documents.document_node(info, number)
        return None

    @strawberry.field(
        description="MOA documents, or those whose text matches `search` (web-search syntax: "
        'words, "a phrase", -excluded), best match first with its page and a snippet.'
    )
    async def documents(
        self,
        info: Info,
        search: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> moa_documents.DocumentConnection:
        return await moa_documents.documents_field(info, search, first, after)

    @strawberry.field(description="The current agreements, or the list as of a date (`asOf`).")
    async def agreements(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AgreementFilter | None = None,
        order_by: AgreementOrder | None = None,
        as_of: dt.date | None = None,
    ) -> AgreementConnection:
        filters, order, size = agreement_page_arguments(first, filter, order_by)
        async with info.context.engine.connect() as conn:
            page = await agreements.agreement_page(conn, filters, order, size, after, as_of)
            wants_count = _selected(info, "totalCount")
            total = await agreements.agreement_count(conn, filters, as_of) if wants_count else -1
        nodes = await eager.agreements(info, page.items, eager.node_tree(info))
        edges, page_info = page_edges(page, nodes)
        return AgreementConnection(edges=edges, page_info=page_info, total_count=total)

    @strawberry.field(description="Agreements added, ended or changed between two dates' lists.")
    async def agreement_changes(
        self,
        info: Info,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
        first: int | None = None,
        after: str | None = None,
    ) -> AgreementChangeConnection:
        if to < from_:
            raise ClientError("`to` must not be before `from`")
        async with info.context.engine.connect() as conn:
            page = await agreements.agreement_changes(conn, from_, to, page_size(first), after)
        records = await info.context.loaders.agreement.load_many(
            [c.agreement_id for c in page.items]
        )
        nodes = [
            AgreementChange(kind=AgreementChangeKind(change.kind), agreement=Agreement.of(record))
            for change, record in zip(page.items, records, strict=True)
            if record is not None
        ]
        edges, page_info = page_edges(page, nodes)
        return AgreementChangeConnection(edges=edges, page_info=page_info)

    @strawberry.field
    async def agencies(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AgencyFilter | None = None,
    ) -> AgencyConnection:
        filters = (filter or AgencyFilter()).to_query()
        async with info.context.engine.connect() as conn:
            page = await agencies.agency_page(conn, filters, page_size(first), after)
            wants_count = _selected(info, "totalCount")
            total = await agencies.agency_count(conn, filters) if wants_count else -1
        nodes = await eager.attach_agencies(info, page.items, eager.node_tree(info))
        edges, page_info = page_edges(page, nodes)
        return AgencyConnection(edges=edges, page_info=page_info, total_count=total)

    @strawberry.field
    async def jurisdictions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: JurisdictionFilter | None = None,
    ) -> JurisdictionConnection:
        filters = (filter or JurisdictionFilter()).to_query()
        async with info.context.engine.connect() as conn:
            page = await jurisdictions.jurisdiction_page(conn, filters, page_size(first), after)
            wants_count = _selected(info, "totalCount")
            total = await jurisdictions.jurisdiction_count(conn, filters) if wants_count else -1
        nodes = await eager.attach_jurisdictions(info, page.items, eager.node_tree(info))
        edges, page_info = page_edges(page, nodes)
        return JurisdictionConnection(edges=edges, page_info=page_info, total_count=total)

    @strawberry.field
    async def program_models(self, info: Info) -> list[ProgramModel]:
        async with info.context.engine.connect() as conn:
            return [ProgramModel.of(r) for r in await reference.program_models(conn)]

    @strawberry.field
    async def agreement_stats(
        self, info: Info, group_by: list[AgreementDimension], filter: AgreementFilter | None = None
    ) -> list[AgreementStat]:
        filters = (filter or AgreementFilter()).to_query()
        async with info.context.engine.connect() as conn:
            rows = await agreements.agreement_stats(conn, group_by, filters)
        return [
            AgreementStat(
                key=AgreementStatKey(**{d.value.lower(): v for d, v in key.items()}),
                count=count,
            )
            for key, count in rows
        ]

    @strawberry.field(
        description="Detainer counts grouped by dimensions, over whole months. Exact without a "
        "personal attribute; grouped by criminality or citizenship, every count is a sum of "
        "cells rounded to multiples of OPEN287G_MIN_CELL (`rounded: true`), the same in every "
        "query, so differences between queries reveal no small count."
    )
    async def detainer_stats(
        self, info: Info, group_by: list[DetainerDimension], filter: DetainerFilter | None = None
    ) -> list[DetainerStat]:
        return await detainer_stat_rows(info, group_by, (filter or DetainerFilter()).to_query())

    @strawberry.field(description="Set when demo or synthetic (not real) data is loaded.")
    async def notice(self, info: Info) -> str | None:
        async with info.context.engine.connect() as conn:
            return (await changes.data_version(conn)).notice

    @strawberry.field(
        description="Known problems in ICE's lists: repairs, rejections and cross-check flags."
    )
    def data_quality(self) -> DataQuality:
        return DataQuality()

    @strawberry.field(description="Every source file and load run: the provenance of the data.")
    async def datasets(self, info: Info) -> list[Dataset]:
        async with info.context.engine.connect() as conn:
            return [Dataset.of(r) for r in await reference.datasets(conn)]


def _selected(info: Info, name: str) -> bool:
    """Whether the client asked for `name` on this field's result (skip the COUNT if not)."""
    return name in eager.field_tree(info)


def build_schema(*, compiled: bool = True, documents: DocumentCache | None = None) -> MaskedSchema:
    """The schema with its limits; `compiled=False` leaves out the compiled agreement pages
    (the differential test compares both). Each schema has its own document cache."""
    documents = documents if documents is not None else DocumentCache()
    extensions: list[Callable[[], SchemaExtension]] = [
        # Factories, one instance per request; the caches live outside the instances.
        lambda: CachedDocuments(documents),
        QueryLimits,
        *([CompiledAgreementPages] if compiled else []),
    ]
    return MaskedSchema(query=Query, extensions=extensions)


schema = build_schema()
