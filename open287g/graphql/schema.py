"""The Query type and the schema with its limits (SPEC "GraphQL")."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.extensions import SchemaExtension

from open287g.db.compiler import (
    Pick,
    Statement,
    all_columns,
    all_rows_sql,
    fetch_json,
    root_connection_sql,
)
from open287g.db.entities import ENTITIES
from open287g.db.entities.agency import AGENCY
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.entities.agreement_change import AGREEMENT_CHANGE
from open287g.db.entities.dataset import DATASET, DATASET_ORDER
from open287g.db.entities.declare import ID_ORDER, Entity
from open287g.db.entities.document import DOCUMENT
from open287g.db.entities.jurisdiction import JURISDICTION
from open287g.db.entities.program_model import PROGRAM_MODEL, PROGRAM_MODEL_ORDER
from open287g.db.queries import agencies, agreements, changes, jurisdictions
from open287g.db.queries.agreements import AgreementDimension
from open287g.db.queries.detainers import DetainerDimension
from open287g.db.queries.ids import check_ids, from_global_id, int_key_of
from open287g.db.queries.pagination import MAX_PAGE, page_size
from open287g.graphql.context import Info
from open287g.graphql.documents import CachedDocuments, DocumentCache
from open287g.graphql.entity_types import REGISTRY, connection_pick, load_node
from open287g.graphql.errors import MaskedSchema
from open287g.graphql.inputs import (
    AgencyFilter,
    AgreementFilter,
    AgreementOrder,
    DetainerFilter,
    JurisdictionFilter,
    agreement_changes_arguments,
    agreement_page_arguments,
)
from open287g.graphql.limits import QueryLimits
from open287g.graphql.moa_documents import documents_arguments
from open287g.graphql.plan import CompiledOperations, PlanCache
from open287g.graphql.quality import DataQuality
from open287g.graphql.relay import Node
from open287g.graphql.stat_types import (
    AgreementStat,
    AgreementStatKey,
    DetainerStat,
    detainer_stat_rows,
)
from open287g.graphql.types import (
    AgencyConnection,
    AgreementChangeConnection,
    AgreementConnection,
    Dataset,
    DocumentConnection,
    JurisdictionConnection,
    ProgramModel,
)
from open287g.graphql.versioned import ReadVersionFirst


@strawberry.type
class Query:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        found: Node | None = await _node(info, id)
        return found

    @strawberry.field(
        description=f"Objects by global id, in the order given (null where there is none);"
        f" at most {MAX_PAGE} ids."
    )
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        check_ids(ids)
        return list(await asyncio.gather(*(_node(info, i) for i in ids)))

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
    ) -> DocumentConnection:
        query, size, ordering, paging = documents_arguments(search, first, after)
        return await fallback_page(
            info,
            "Document",
            lambda stmt, pick: root_connection_sql(
                stmt, DOCUMENT, query, size, ordering, "ASC", pick, paging=paging
            ),
            {},
        )

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
        query = agreements.page_query(filters, order, size, after, as_of)
        return await fallback_page(
            info,
            "Agreement",
            lambda stmt, pick: root_connection_sql(
                stmt, AGREEMENT, query, size, order.name, order.direction.value, pick
            ),
            {"first": first, "after": after},
        )

    @strawberry.field(description="Agreements added, ended or changed between two dates' lists.")
    async def agreement_changes(
        self,
        info: Info,
        from_: Annotated[dt.date, strawberry.argument(name="from")],
        to: dt.date,
        first: int | None = None,
        after: str | None = None,
    ) -> AgreementChangeConnection:
        query, size = agreement_changes_arguments(from_, to, first, after)
        return await fallback_page(
            info,
            "AgreementChange",
            lambda stmt, pick: root_connection_sql(
                stmt,
                AGREEMENT_CHANGE,
                query,
                size,
                agreements.changes_ordering(from_, to),
                "ASC",
                pick,
                paging=ID_ORDER,
            ),
            {},
        )

    @strawberry.field
    async def agencies(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: AgencyFilter | None = None,
    ) -> AgencyConnection:
        filters = (filter or AgencyFilter()).to_query()
        size = page_size(first)
        query = agencies.agency_page_query(filters, size, after)
        return await fallback_page(
            info,
            "Agency",
            lambda stmt, pick: root_connection_sql(
                stmt, AGENCY, query, size, agencies.ORDERING, "ASC", pick
            ),
            {},
        )

    @strawberry.field
    async def jurisdictions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        filter: JurisdictionFilter | None = None,
    ) -> JurisdictionConnection:
        filters = (filter or JurisdictionFilter()).to_query()
        size = page_size(first)
        query = jurisdictions.jurisdiction_page_query(filters, size, after)
        return await fallback_page(
            info,
            "Jurisdiction",
            lambda stmt, pick: root_connection_sql(
                stmt, JURISDICTION, query, size, jurisdictions.ORDERING, "ASC", pick
            ),
            {},
        )

    @strawberry.field
    async def program_models(self, info: Info) -> list[ProgramModel]:
        return await all_rows(info, PROGRAM_MODEL, PROGRAM_MODEL_ORDER)

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
        return await all_rows(info, DATASET, DATASET_ORDER)


async def _node(info: Info, global_id: str) -> Any:
    type_name, key = from_global_id(global_id)
    entity = ENTITIES.get(type_name)
    if entity is None or not entity.node:
        return None
    typed: int | str | None = key if entity.key_type is str else int_key_of(key)
    return None if typed is None else await load_node(info, type_name, typed)


async def fallback_page(
    info: Info, name: str, build: Callable[[Statement, Pick], str], args: dict[str, Any]
) -> Any:
    """A root connection on the fallback path: the compiler's page of every column, made
    into objects whose relations resolve level by level."""
    stmt = Statement()
    pick = connection_pick(ENTITIES[name], args, name in REGISTRY.counted)
    value = await fetch_json(info.context.engine, stmt, build(stmt, pick))
    return REGISTRY.page(name, value)


async def all_rows(info: Info, entity: Entity, order: str) -> list[Any]:
    """Every row of a declared entity (a root list), on the fallback path."""
    stmt = Statement()
    sql = all_rows_sql(stmt, entity, order, all_columns(entity))
    rows = await fetch_json(info.context.engine, stmt, sql)
    return [REGISTRY.instance(entity.name, row) for row in rows]


def build_schema(*, compiled: bool = True, documents: DocumentCache | None = None) -> MaskedSchema:
    """The schema with its limits; `compiled=False` leaves out the compiler (every
    operation runs on the fallback resolvers: the differential test compares both). Each
    schema has its own document and plan caches."""
    documents = documents if documents is not None else DocumentCache()
    plans = PlanCache() if compiled else None
    extensions: list[Callable[[], SchemaExtension]] = [
        # Factories, one instance per request; the caches live outside the instances.
        lambda: CachedDocuments(documents),
        QueryLimits,
        *([lambda: CompiledOperations(plans)] if plans is not None else []),
        ReadVersionFirst,
    ]
    return MaskedSchema(query=Query, extensions=extensions, plans=plans)


schema = build_schema()
