"""The compiled root fields: each maps its arguments onto the shared query layer (the same
filters, orderings and cursors the fallback resolvers and REST use) and the compiler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import GraphQLField, GraphQLObjectType, get_named_type
from graphql.execution.collect_fields import FieldDetailsList

from open287g.db.compiler import (
    NotCompilable,
    Pick,
    Statement,
    all_rows_sql,
    lookup_sql,
    root_connection_sql,
)
from open287g.db.entities import ENTITIES
from open287g.db.entities.agency import AGENCY
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.entities.agreement_change import AGREEMENT_CHANGE
from open287g.db.entities.dataset import DATASET, DATASET_ORDER
from open287g.db.entities.declare import ID_ORDER
from open287g.db.entities.document import DOCUMENT
from open287g.db.entities.jurisdiction import JURISDICTION
from open287g.db.entities.program_model import PROGRAM_MODEL, PROGRAM_MODEL_ORDER
from open287g.db.queries import agencies, agreements, changes, jurisdictions
from open287g.db.queries.ids import check_ids, from_global_id, int_key_of
from open287g.db.queries.pagination import page_size
from open287g.graphql import inputs
from open287g.graphql.moa_documents import documents_arguments

if TYPE_CHECKING:
    from open287g.graphql.plan import Reader


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
    if name == "node":
        return _node(stmt, reader, args["id"], details)
    if name == "nodes":
        check_ids(args["ids"])
        found = [_node(stmt, reader, global_id, details) for global_id in args["ids"]]
        return f"json_build_array({', '.join(found)})" if found else "'[]'::json"
    if name == "notice":
        return f"to_json({changes.NOTICE_SQL})"
    named = get_named_type(definition.type)
    if not isinstance(named, GraphQLObjectType):
        raise NotCompilable(name)
    picks = reader.picks(named, details)
    pick = Pick(key, name, args, picks)
    if name == "agreements":
        filters, order, first = inputs.agreement_page_arguments(
            args.get("first"), args.get("filter"), args.get("order_by")
        )
        query = agreements.page_query(filters, order, first, args.get("after"), args.get("as_of"))
        return root_connection_sql(
            stmt, AGREEMENT, query, first, order.name, order.direction.value, pick
        )
    if name == "agreement_changes":
        query, first = inputs.agreement_changes_arguments(
            args["from_"], args["to"], args.get("first"), args.get("after")
        )
        ordering = agreements.changes_ordering(args["from_"], args["to"])
        return root_connection_sql(
            stmt, AGREEMENT_CHANGE, query, first, ordering, "ASC", pick, paging=ID_ORDER
        )
    if name == "documents":
        query, first, ordering, paging = documents_arguments(
            args.get("search"), args.get("first"), args.get("after")
        )
        return root_connection_sql(
            stmt, DOCUMENT, query, first, ordering, "ASC", pick, paging=paging
        )
    if name == "agencies":
        first = page_size(args.get("first"))
        agency_filter = (args.get("filter") or inputs.AgencyFilter()).to_query()
        query = agencies.agency_page_query(agency_filter, first, args.get("after"))
        return root_connection_sql(stmt, AGENCY, query, first, agencies.ORDERING, "ASC", pick)
    if name == "jurisdictions":
        first = page_size(args.get("first"))
        place_filter = (args.get("filter") or inputs.JurisdictionFilter()).to_query()
        query = jurisdictions.jurisdiction_page_query(place_filter, first, args.get("after"))
        return root_connection_sql(
            stmt, JURISDICTION, query, first, jurisdictions.ORDERING, "ASC", pick
        )
    if name == "program_models":
        return all_rows_sql(stmt, PROGRAM_MODEL, PROGRAM_MODEL_ORDER, picks)
    if name == "datasets":
        return all_rows_sql(stmt, DATASET, DATASET_ORDER, picks)
    raise NotCompilable(name)


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
