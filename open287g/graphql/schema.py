"""The Query type and the schema with its limits (SPEC "GraphQL")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.extensions import SchemaExtension

import open287g.graphql.types  # noqa: F401 (the generated types, before the root fields)
from open287g.db.entities import ENTITIES
from open287g.db.queries import changes
from open287g.db.queries.ids import check_ids, from_global_id, int_key_of
from open287g.db.queries.pagination import MAX_PAGE
from open287g.graphql import roots
from open287g.graphql.context import Info
from open287g.graphql.documents import CachedDocuments, DocumentCache
from open287g.graphql.entity_types import load_node
from open287g.graphql.enum_meanings import describe_enums
from open287g.graphql.errors import MaskedSchema
from open287g.graphql.limits import QueryLimits
from open287g.graphql.plan import CompiledOperations, PlanCache
from open287g.graphql.quality import DataQuality
from open287g.graphql.relay import Node
from open287g.graphql.versioned import ReadVersionFirst


@strawberry.type(description="What the API answers: every read starts here.")
class Query:
    @strawberry.field(description="The object with this global id, or null.")
    async def node(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        found: Node | None = await _node(info, id)
        return found

    @strawberry.field(
        description=f"Objects by global id, in the order given (null where there is none);"
        f" at most {MAX_PAGE} ids."
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")],
    ) -> list[Node | None]:
        check_ids(ids)
        return list(await asyncio.gather(*(_node(info, i) for i in ids)))

    # The root collections: declared once each, in `roots.ROOTS` (both paths read it).
    documents = roots.field("documents")
    agreements = roots.field("agreements")
    agreement_changes = roots.field("agreement_changes")
    agencies = roots.field("agencies")
    jurisdictions = roots.field("jurisdictions")
    facilities = roots.field("facilities")
    program_models = roots.field("program_models")
    agreement_stats = roots.field("agreement_stats")
    detainer_stats = roots.field("detainer_stats")

    @strawberry.field(description="Set when demo or synthetic (not real) data is loaded.")
    async def notice(self, info: Info) -> str | None:
        async with info.context.engine.connect() as conn:
            return (await changes.data_version(conn)).notice

    @strawberry.field(
        description="Known problems in ICE's lists: repairs, rejections and cross-check flags."
    )
    def data_quality(self) -> DataQuality:
        return DataQuality()

    datasets = roots.field("datasets")


async def _node(info: Info, global_id: str) -> Any:
    type_name, key = from_global_id(global_id)
    entity = ENTITIES.get(type_name)
    if entity is None or not entity.node:
        return None
    typed: int | str | None = key if entity.key_type is str else int_key_of(key)
    return None if typed is None else await load_node(info, type_name, typed)


describe_enums()  # every enum is registered by now (inputs, quality, entity types)


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
