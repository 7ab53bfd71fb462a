"""The root fields. Each root collection is declared once, in `ROOTS`: its entity, and a
function whose signature is the field's GraphQL arguments and whose body maps them onto
the shared query layer (the same filters, orderings and cursors REST uses). The compiler's
dispatch (`root_sql`) and the fallback resolvers (`field`) both read that one entry, so the
two paths cannot map an argument differently, nor check them in another order.

What `arguments` returns is read by `rows`: a `Page` (a connection: its page query, size,
cursor ordering, direction and order) or `Rows` (a list: a FROM item and its order); the
statistics' arguments are the query layer's values their declared rows are computed from
(`open287g.db.entities.statistics`)."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLField, GraphQLObjectType, get_named_type
from graphql.execution.collect_fields import FieldDetailsList

from open287g.db.compiler import (
    NotCompilable,
    Pick,
    Statement,
    all_columns,
    fetch_json,
    lookup_sql,
    root_connection_sql,
    rows_sql,
    table_rows,
)
from open287g.db.entities import COMPUTED, ENTITIES
from open287g.db.entities.dataset import DATASET, DATASET_ORDER
from open287g.db.entities.declare import ID_ORDER, ConnectionOrder
from open287g.db.entities.program_model import PROGRAM_MODEL, PROGRAM_MODEL_ORDER
from open287g.db.queries import agencies, agreements, changes, facilities, jurisdictions
from open287g.db.queries.id_pages import IdPages
from open287g.db.queries.ids import check_ids, from_global_id, int_key_of
from open287g.db.queries.pagination import DEFAULT_PAGE, PageQuery, Rows, Window, window
from open287g.graphql.context import Info
from open287g.graphql.entity_types import REGISTRY, connection_pick, with_arguments
from open287g.graphql.inputs import (
    AgencyFilter,
    AgreementFilter,
    AgreementOrder,
    FacilityFilter,
    JurisdictionFilter,
    agreement_changes_arguments,
    agreement_page_arguments,
)
from open287g.graphql.moa_documents import documents_arguments
from open287g.graphql.relay import RELAY, After, Before, First, Last
from open287g.graphql.selection import Reader
from open287g.graphql.stat_types import agreement_stats_arguments, detainer_stats_arguments

F = TypeVar("F")


@dataclass(frozen=True)
class Page:
    """A root connection's page: `query` from the query layer, the `shown` window of it,
    cursors of `ordering`, rows in (sort value, id) `direction` unless `paging` gives the
    order."""

    query: PageQuery
    shown: Window
    ordering: str
    direction: str = "ASC"
    paging: ConnectionOrder | None = None


def _itself(value: Any) -> Page | Rows:
    assert isinstance(value, Page | Rows), value
    return value


@dataclass(frozen=True)
class Root:
    """A root collection of `entity`. `arguments`' signature is the field's GraphQL
    arguments (strawberry reads it); what it returns, `rows` turns into the page or list."""

    entity: str
    arguments: Callable[..., Any]
    rows: Callable[[Any], Page | Rows] = _itself
    description: str | None = None

    @property
    def connection(self) -> bool:
        return typing.get_type_hints(self.arguments)["return"] is Page


def _documents(
    search: Annotated[
        str | None,
        strawberry.argument(
            description='Web-search syntax over the documents\' text: words, "a phrase", '
            "a OR b, -excluded (English stems); absent: every document."
        ),
    ] = None,
    first: First = DEFAULT_PAGE,
    after: After = None,
    last: Last = None,
    before: Before = None,
) -> Page:
    shown = window(first, after, last, before)
    query, ordering, paging = documents_arguments(search, shown)
    return Page(query, shown, ordering, paging=paging)


def _agreements(
    first: First = DEFAULT_PAGE,
    after: After = None,
    filter: Annotated[
        AgreementFilter | None, strawberry.argument(description="Which agreements.")
    ] = None,
    order_by: Annotated[
        AgreementOrder | None, strawberry.argument(description="Their order (default: by id).")
    ] = None,
    as_of: Annotated[
        dt.date | None,
        strawberry.argument(
            description="The agreements as ICE's lists stood on this date (absent: now)."
        ),
    ] = None,
    last: Last = None,
    before: Before = None,
) -> Page:
    filters, order = agreement_page_arguments(filter, order_by)
    shown = window(first, after, last, before)
    query = agreements.page_query(filters, order, shown.query_after, as_of)
    return Page(query, shown, order.name, order.direction.value)


def _agreement_changes(
    from_: Annotated[
        dt.date,
        strawberry.argument(name="from", description="The earlier date: its lists are the base."),
    ],
    to: Annotated[
        dt.date, strawberry.argument(description="The later date: its lists are compared.")
    ],
    first: First = DEFAULT_PAGE,
    after: After = None,
    last: Last = None,
    before: Before = None,
) -> Page:
    query, shown = agreement_changes_arguments(from_, to, window(first, after, last, before))
    return Page(query, shown, agreements.changes_ordering(from_, to), paging=ID_ORDER)


def _agencies(
    first: First = DEFAULT_PAGE,
    after: After = None,
    filter: Annotated[
        AgencyFilter | None, strawberry.argument(description="Which agencies.")
    ] = None,
    last: Last = None,
    before: Before = None,
) -> Page:
    filters = (filter or AgencyFilter()).to_query()
    return _id_page(agencies.PAGES, filters, window(first, after, last, before))


def _jurisdictions(
    first: First = DEFAULT_PAGE,
    after: After = None,
    filter: Annotated[
        JurisdictionFilter | None, strawberry.argument(description="Which jurisdictions.")
    ] = None,
    last: Last = None,
    before: Before = None,
) -> Page:
    filters = (filter or JurisdictionFilter()).to_query()
    return _id_page(jurisdictions.PAGES, filters, window(first, after, last, before))


def _facilities(
    first: First = DEFAULT_PAGE,
    after: After = None,
    filter: Annotated[
        FacilityFilter | None, strawberry.argument(description="Which facilities.")
    ] = None,
    last: Last = None,
    before: Before = None,
) -> Page:
    filters = (filter or FacilityFilter()).to_query()
    return _id_page(facilities.PAGES, filters, window(first, after, last, before))


def _id_page(pages: IdPages[F], filters: F, shown: Window) -> Page:
    """A page of a table paged in id order (the filter checked first, then the window)."""
    query = pages.page_query(filters, shown.query_after)
    return Page(query, shown, pages.ordering)


def _program_models() -> Rows:
    return table_rows(PROGRAM_MODEL, PROGRAM_MODEL_ORDER)


def _datasets() -> Rows:
    return table_rows(DATASET, DATASET_ORDER)


def _computed(entity: str) -> Callable[[Any], Rows]:
    def rows(args: dict[str, Any]) -> Rows:
        return COMPUTED[entity](args, "")

    return rows


ROOTS: dict[str, Root] = {
    "documents": Root(
        "Document",
        _documents,
        description="MOA documents, or those whose text matches `search` (web-search syntax, "
        'English stems: words, "a phrase", a OR b, -excluded), best match first (the words '
        "of a plain search in a row before the words apart) with its page and a snippet.",
    ),
    "agreements": Root(
        "Agreement",
        _agreements,
        description="The current agreements, or the list as of a date (`asOf`).",
    ),
    "agreement_changes": Root(
        "AgreementChange",
        _agreement_changes,
        description="Agreements added, ended or changed between two dates' lists.",
    ),
    "agencies": Root(
        "Agency", _agencies, description="Agencies named in ICE's lists, in id order."
    ),
    "jurisdictions": Root(
        "Jurisdiction",
        _jurisdictions,
        description="States, counties, places and tribes, in id order.",
    ),
    "facilities": Root(
        "Facility",
        _facilities,
        description="The jails of ICE's detainer releases, one per facility code, in id "
        "order: where each is placed, who runs it, its detainer totals.",
    ),
    "program_models": Root(
        "ProgramModel", _program_models, description="The 287(g) program models."
    ),
    "agreement_stats": Root(
        "AgreementStat",
        agreement_stats_arguments,
        _computed("AgreementStat"),
        description="Agreement counts grouped by dimensions (exact: agreements are public).",
    ),
    "detainer_stats": Root(
        "DetainerStat",
        detainer_stats_arguments,
        _computed("DetainerStat"),
        description="Detainer counts grouped by dimensions, over whole months. Exact without "
        "a personal attribute; grouped by criminality or citizenship, every count is a sum "
        "of cells rounded to multiples of OPEN287G_MIN_CELL (`rounded: true`), the same in "
        "every query, so differences between queries reveal no small count.",
    ),
    "datasets": Root(
        "Dataset",
        _datasets,
        description="Every source file and load run: the provenance of the data.",
    ),
}


def collection_sql(stmt: Statement, root: Root, args: dict[str, Any], pick: Pick) -> str:
    """SQL for a root collection's JSON value, `pick` selecting below it (both paths)."""
    found = root.rows(root.arguments(**args))
    entity = ENTITIES[root.entity]
    if isinstance(found, Page):
        return root_connection_sql(
            stmt,
            entity,
            found.query,
            found.shown,
            found.ordering,
            found.direction,
            pick,
            paging=found.paging,
        )
    if pick.picks is None:
        raise NotCompilable(f"{pick.name} needs a selection")
    return rows_sql(stmt, entity, found, pick.picks)


def field(name: str) -> Any:
    """The Query field of `ROOTS[name]` on the fallback path: the compiler's page or list
    of every column, made into objects whose relations resolve level by level."""
    root = ROOTS[name]
    entity = ENTITIES[root.entity]
    connection = root.connection
    if connection:
        returns: Any = REGISTRY.connections[root.entity]
        pick = connection_pick(entity, {})
    else:
        returns = list[REGISTRY.types[root.entity]]  # type: ignore[name-defined]
        pick = Pick(name, name, {}, all_columns(entity))

    async def resolve(info: Info, **kwargs: Any) -> Any:
        stmt = Statement(shape=RELAY)
        sql = collection_sql(stmt, root, kwargs, pick)
        value = await fetch_json(info.context.engine, stmt, sql, info.context.settings)
        if connection:
            return REGISTRY.page(root.entity, value)
        return [REGISTRY.instance(root.entity, row) for row in value]

    resolve.__name__ = name
    resolver = with_arguments(resolve, root.arguments, returns, root=False)
    return strawberry.field(resolver=resolver, description=root.description)


def root_sql(
    stmt: Statement,
    reader: Reader,
    name: str,
    key: str,
    args: dict[str, Any],
    definition: GraphQLField,
    details: FieldDetailsList,
) -> str:
    """SQL for one root field's JSON value (NotCompilable when it has none)."""
    special = _SPECIAL.get(name)
    if special is not None:
        return special(stmt, reader, args, details)
    root = ROOTS.get(name)
    named = get_named_type(definition.type)
    if root is None or not isinstance(named, GraphQLObjectType):
        raise NotCompilable(name)
    return collection_sql(stmt, root, args, Pick(key, name, args, reader.picks(named, details)))


def _node_root(
    stmt: Statement, reader: Reader, args: dict[str, Any], details: FieldDetailsList
) -> str:
    return _node(stmt, reader, args["id"], details)


def _nodes_root(
    stmt: Statement, reader: Reader, args: dict[str, Any], details: FieldDetailsList
) -> str:
    check_ids(args["ids"])
    found = [_node(stmt, reader, global_id, details) for global_id in args["ids"]]
    return f"json_build_array({', '.join(found)})" if found else "'[]'::json"


def _notice(
    stmt: Statement, reader: Reader, args: dict[str, Any], details: FieldDetailsList
) -> str:
    return f"to_json({changes.NOTICE_SQL})"


# The root fields that are not collections.
_SPECIAL: dict[str, Callable[[Statement, Reader, dict[str, Any], FieldDetailsList], str]] = {
    "node": _node_root,
    "nodes": _nodes_root,
    "notice": _notice,
}


def _node(stmt: Statement, reader: Reader, global_id: str, details: FieldDetailsList) -> str:
    type_name, raw_key = from_global_id(str(global_id))
    entity = ENTITIES.get(type_name)
    if entity is None or not entity.node:
        raise NotCompilable(type_name)
    key: int | str | None = raw_key if entity.key_type is str else int_key_of(raw_key)
    if key is None:
        return "NULL"
    picks = reader.picks(reader.object_type(type_name), details)
    return lookup_sql(stmt, entity, key, picks)
