"""The GraphQL object types of the declared entities, generated from their declarations
(`open287g.db.entities`), with the fallback resolvers the executor uses when an operation
does not compile (see `open287g.graphql.plan`).

An object is built from one JSON row the compiler produced (every column, with the row's
key); a relation resolves through a per-request DataLoader that runs the compiler's batch
statement for a whole level at once. A relation whose rows are computed from arguments
(statistics, page text) takes them as its declared function's signature
(`RELATION_ARGUMENTS`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any

import strawberry

from open287g.db.compiler import Pick, all_columns
from open287g.db.entities import ENTITIES
from open287g.db.entities.agreement_link import LinkMethod
from open287g.db.entities.declare import Column, Entity, GlobalId, Relation, from_json, optional
from open287g.db.entities.official import OfficialSourceKind
from open287g.db.lineage_match import LinkKind
from open287g.db.queries.ids import to_global_id
from open287g.db.queries.pagination import DEFAULT_PAGE
from open287g.graphql.context import Info
from open287g.graphql.moa_documents import page_text_arguments
from open287g.graphql.relay import After, Before, Edge, First, Last, Node, PageInfo
from open287g.graphql.stat_types import scoped_detainer_stats_arguments

MODULE = "open287g.graphql.types"

strawberry.enum(OfficialSourceKind, description="Where an official comes from.")
strawberry.enum(LinkMethod, description="Why two agreements were linked as one lineage.")
strawberry.enum(
    LinkKind,
    description="RENAME: listed on under a new name (within 14 days, or side by side); "
    "RELISTING: listed again under a new name after a longer absence; STATE: listed on in "
    "another state (an MOA URL or signing date shows it is the same agreement); SWITCH: the "
    "agency went on under another program model.",
)

# Every object keeps its row's key (not in the API) for its relations' DataLoaders.
PRIVATE_KEY: Any = strawberry.Private[Any]  # type: ignore[misc]
PAGE_INFO_FIELDS = ("has_next_page", "has_previous_page", "start_cursor", "end_cursor")
PAGE_INFO = Pick("page_info", "page_info", {}, tuple(Pick(f, f) for f in PAGE_INFO_FIELDS))


def connection_pick(entity: Entity, args: dict[str, Any]) -> Pick:
    """A connection of every column of `entity`: what a fallback resolver fetches."""
    node = Pick("node", "node", {}, all_columns(entity))
    edges = Pick("edges", "edges", {}, (Pick("cursor", "cursor"), node))
    count = Pick("total_count", "total_count")
    return Pick("connection", "connection", args, (edges, PAGE_INFO, count))


def column_annotation(column: Column) -> Any:
    """The GraphQL field type of a column: its Python type (a `GlobalId` is an ID)."""
    base, nullable = optional(column.type)
    if base is GlobalId:
        return strawberry.ID | None if nullable else strawberry.ID
    return column.type


def lazy(name: str) -> Any:
    return Annotated[name, strawberry.lazy(MODULE)]


class Registry:
    """The generated classes, by GraphQL type name."""

    def __init__(self) -> None:
        self.types: dict[str, type] = {}
        self.connections: dict[str, type] = {}

    def build(self, entity: Entity) -> type:
        declared: dict[str, tuple[Any, Any]] = {}  # GraphQL field: (annotation, field)
        for column in entity.columns:
            if column.graphql:
                declared[column.name] = (
                    column_annotation(column),
                    strawberry.field(
                        description=column.description, deprecation_reason=column.deprecation
                    ),
                )
        for relation in entity.relations:
            annotation = self._annotation(relation)
            arguments = RELATION_ARGUMENTS.get((entity.name, relation.name))
            if relation.kind == "embed":
                field = strawberry.field(description=relation.description)
            else:
                field = strawberry.field(
                    resolver=_resolver(entity, relation, annotation, arguments),
                    description=relation.description,
                    metadata={"arguments": arguments} if arguments else None,
                )
            declared[relation.name] = (annotation, field)
        annotations: dict[str, Any] = {"key": PRIVATE_KEY}
        namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": MODULE}
        for name in (*entity.first, *(n for n in declared if n not in entity.first)):
            annotations[name], namespace[name] = declared[name]
        bases: tuple[type, ...] = (Node,) if entity.node else ()
        cls = strawberry.type(type(entity.name, bases, namespace), description=entity.description)
        self.types[entity.name] = cls
        return cls

    def _annotation(self, relation: Relation) -> Any:
        if relation.kind == "connection":
            return lazy(f"{relation.target}Connection")
        target = lazy(relation.target)
        if relation.kind == "list":
            return list[target]  # type: ignore[valid-type]
        return target if not relation.nullable else target | None

    def connection(self, name: str) -> type:
        """The connection type of `name`: Relay's edges and page info, and `totalCount`."""
        node = lazy(name)
        annotations: dict[str, Any] = {
            "edges": list[Edge[node]],  # type: ignore[valid-type]
            "page_info": PageInfo,
            "total_count": int,
        }
        namespace: dict[str, Any] = {
            "__annotations__": annotations,
            "__module__": MODULE,
            "edges": strawberry.field(description="This page's items, in the list's order."),
            "page_info": strawberry.field(description="Where this page sits in the list."),
            "total_count": strawberry.field(
                description="How many items the whole list holds (every page, not this one)."
            ),
        }
        cls = strawberry.type(
            type(f"{name}Connection", (), namespace),
            description=f"A page of {name} items (a Relay connection).",
        )
        self.connections[name] = cls
        return cls

    def instance(self, name: str, row: dict[str, Any]) -> Any:
        """An object of type `name` from a JSON row of `all_columns`."""
        entity = ENTITIES[name]
        values: dict[str, Any] = {"key": row["__key"]}
        if entity.node:
            values["id"] = strawberry.ID(to_global_id(entity.name, row["__key"]))
        for column in entity.columns:
            if column.graphql:
                values[column.name] = from_json(column.type, row[column.name])
        for relation in entity.relations:
            if relation.kind == "embed":
                embedded = row[relation.name]
                values[relation.name] = (
                    None if embedded is None else self.instance(relation.target, embedded)
                )
        return self.types[name](**values)

    def page(self, name: str, value: dict[str, Any]) -> Any:
        """A connection object from the JSON of `connection_pick`."""
        edges = [
            Edge(cursor=edge["cursor"], node=self.instance(name, edge["node"]))
            for edge in value["edges"]
        ]
        info = value["page_info"]
        return self.connections[name](
            edges=edges,
            page_info=PageInfo(**{field: info[field] for field in PAGE_INFO_FIELDS}),
            total_count=value["total_count"],
        )


REGISTRY = Registry()

# Relations whose rows are computed from arguments (`db/entities/computed.py`): each
# function's signature is the field's GraphQL arguments, its body maps them onto the query
# layer. The compiler reads it from the field's metadata, the fallback resolver calls it.
RELATION_ARGUMENTS: dict[tuple[str, str], Callable[..., dict[str, Any]]] = {
    ("Jurisdiction", "detainer_stats"): scoped_detainer_stats_arguments,
    ("Agency", "detainer_stats"): scoped_detainer_stats_arguments,
    ("Facility", "detainer_stats"): scoped_detainer_stats_arguments,
    ("Document", "page_text"): page_text_arguments,
}


def _resolver(
    entity: Entity,
    relation: Relation,
    annotation: Any,
    arguments: Callable[..., dict[str, Any]] | None = None,
) -> Callable[..., Any]:
    """The fallback resolver of a relation: one batch statement per level, by DataLoader.
    A relation with `arguments` (their signature is its GraphQL arguments) reads the rows
    those arguments compute, as the compiler does."""
    if relation.kind == "connection":

        async def connection(
            root: Any,
            info: Info,
            first: First = DEFAULT_PAGE,
            after: After = None,
            last: Last = None,
            before: Before = None,
        ) -> Any:
            args = {"first": first, "after": after, "last": last, "before": before}
            pick = connection_pick(ENTITIES[relation.target], args)
            loader = info.context.loaders.relation(entity, relation, pick)
            return REGISTRY.page(relation.target, await loader.load(root.key))

        connection.__annotations__["return"] = annotation
        return connection

    convert = arguments or _no_arguments

    async def resolve(root: Any, info: Info, **kwargs: Any) -> Any:
        target = ENTITIES[relation.target]
        args = convert(**kwargs)
        pick = Pick(relation.name, relation.name, args, all_columns(target))
        value = await info.context.loaders.relation(entity, relation, pick).load(root.key)
        if relation.kind == "list":
            return [REGISTRY.instance(relation.target, row) for row in value or ()]
        return None if value is None else REGISTRY.instance(relation.target, value)

    return with_arguments(resolve, convert, annotation, root=True)


def _no_arguments() -> dict[str, Any]:
    return {}


def with_arguments(
    resolve: Callable[..., Any], arguments: Callable[..., Any], returns: Any, *, root: bool
) -> Callable[..., Any]:
    """`resolve([root,] info, **kwargs)`, whose GraphQL arguments (as strawberry reads a
    signature) are the parameters of `arguments`: declared once, for both paths."""
    hints = typing.get_type_hints(arguments, include_extras=True)
    parameters = [
        p.replace(annotation=hints[p.name])
        for p in inspect.signature(arguments).parameters.values()
    ]
    leading = [inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD)] if root else []
    leading.append(
        inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)
    )
    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [*leading, *parameters], return_annotation=returns
    )
    return resolve


async def load_node(info: Info, name: str, key: Any) -> Any:
    """An object by key (or None), through the request's lookup DataLoader."""
    row = await info.context.loaders.lookup(ENTITIES[name]).load(key)
    return None if row is None else REGISTRY.instance(name, row)
