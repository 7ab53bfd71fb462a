"""The compiled path for the hottest query: a page of agreements with their agency,
jurisdiction and model becomes ONE SQL statement that returns the response JSON.

graphql-core spends ~3 ms of CPU completing 100 objects × 10 fields; PostgreSQL builds the
same JSON in well under that (PERFORMANCE.md). So, after strawberry has parsed, validated
and checked the limits of a query, this extension plans it: when every field asked is one
the planner knows (no fragments, directives or duplicate keys), it runs the SQL and hands
strawberry a finished result; otherwise it steps aside and the resolvers run as usual.
Both paths give byte-identical answers (tests compare them).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import orjson
from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLArgument,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    value_from_ast,
)
from graphql.pyutils import Undefined
from graphql.utilities import coerce_input_value
from strawberry.extensions import SchemaExtension

from open287g.db.queries.agreements import page_query
from open287g.db.queries.pagination import page_size
from open287g.errors import ClientError
from open287g.graphql import inputs
from open287g.graphql.context import Context

T = TypeVar("T")
Compiler = Callable[[SelectionSetNode | None, "Plan", str], str | None]


def _gid(type_name: str, key_sql: str) -> str:
    """SQL for to_global_id(): base64url of "Type:key", without padding."""
    return (
        f"rtrim(translate(encode(convert_to('{type_name}:' || ({key_sql})::text, 'UTF8'),"
        " 'base64'), E'+/\\n', '-_'), '=')"
    )


def _date(sql: str) -> str:
    return f"to_char({sql}, 'YYYY-MM-DD')"


@dataclass
class Plan:
    """Parameters collected while compiling (values never go into the SQL text)."""

    params: dict[str, Any] = field(default_factory=dict)


def _object(
    selection: SelectionSetNode | None,
    scalars: dict[str, str],
    relations: dict[str, Compiler],
    plan: Plan,
    typename: str,
) -> str | None:
    """json_build_object(...) for a selection over one row, or None if not compilable."""
    if selection is None:
        return None
    parts: list[str] = []
    keys: set[str] = set()
    for node in selection.selections:
        if not isinstance(node, FieldNode) or node.directives or node.arguments:
            return None
        key = node.alias.value if node.alias else node.name.value
        if key in keys:
            return None
        keys.add(key)
        name = node.name.value
        if name == "__typename":
            sql: str | None = f"'{typename}'"
        elif name in scalars and node.selection_set is None:
            sql = scalars[name]
        elif name in relations:
            sql = relations[name](node.selection_set, plan, key)
        else:
            return None
        if sql is None:
            return None
        parts.append(f"'{key}', {sql}")
    return f"json_build_object({', '.join(parts)})" if parts else None


def _jurisdiction(selection: SelectionSetNode | None, plan: Plan, key: str) -> str | None:
    body = _object(
        selection,
        {
            "id": _gid("Jurisdiction", "j.id"),
            "kind": "CAST(j.kind AS text)",
            "name": "j.name",
            "stateCode": "j.state_code",
            "fips": "j.fips",
        },
        {},
        plan,
        "Jurisdiction",
    )
    return body and f"(SELECT {body} FROM jurisdictions j WHERE j.id = a.jurisdiction_id)"


def _agency(selection: SelectionSetNode | None, plan: Plan, key: str) -> str | None:
    body = _object(
        selection,
        {
            "id": _gid("Agency", "a.id"),
            "name": "a.name",
            "type": "CAST(a.type AS text)",
            "state": "a.state_code",
            "county": "a.county",
        },
        {"jurisdiction": _jurisdiction},
        plan,
        "Agency",
    )
    return body and f"(SELECT {body} FROM agencies a WHERE a.id = p.agency_id)"


def _model(selection: SelectionSetNode | None, plan: Plan, key: str) -> str | None:
    body = _object(
        selection,
        {
            "id": _gid("ProgramModel", "m.code"),
            "code": "CAST(m.code AS text)",
            "name": "m.name",
            "description": "m.description",
            "legalBasis": "m.legal_basis",
        },
        {},
        plan,
        "ProgramModel",
    )
    return body and f"(SELECT {body} FROM program_models m WHERE m.code = p.model_code)"


_AGREEMENT_SCALARS = {
    "id": _gid("Agreement", "p.id"),
    "status": "CAST(p.status AS text)",
    "signedOn": _date("p.signed_on"),
    "signedRaw": "p.signed_raw",
    "moaUrl": "p.moa_url",
    "addendumUrls": "to_json(p.addendum_urls)",
    "firstSeen": _date("p.first_seen"),
    "lastSeen": _date("p.last_seen"),
}
_CURSOR = (
    "rtrim(translate(encode(convert_to('[\"' || :ordering || '\",' || to_json(p.sort_value)::text"
    " || ',' || p.id::text || ']', 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
)


def _connection(selection: SelectionSetNode | None, plan: Plan) -> str | None:
    def edges(selection: SelectionSetNode | None, plan: Plan, key: str) -> str | None:
        def node(selection: SelectionSetNode | None, plan: Plan, key: str) -> str | None:
            return _object(
                selection,
                _AGREEMENT_SCALARS,
                {"agency": _agency, "model": _model},
                plan,
                "Agreement",
            )

        edge = _object(selection, {"cursor": _CURSOR}, {"node": node}, plan, "AgreementEdge")
        if edge is None:
            return None
        return f"(SELECT coalesce(json_agg({edge} ORDER BY p.rn), '[]') FROM shown p)"

    def page_info(selection: SelectionSetNode | None, plan: Plan, key: str) -> str | None:
        last = f"(SELECT {_CURSOR} FROM shown p ORDER BY p.rn DESC LIMIT 1)"
        return _object(
            selection,
            {
                "hasNextPage": "((SELECT count(*) FROM page) > :first)",
                "endCursor": last,
            },
            {},
            plan,
            "PageInfo",
        )

    return _object(
        selection,
        {"totalCount": "(SELECT n FROM counted)"},
        {"edges": edges, "pageInfo": page_info},
        plan,
        "AgreementConnection",
    )


def _arguments(
    node: FieldNode, definitions: dict[str, GraphQLArgument], variables: dict[str, Any]
) -> dict[str, Any] | None:
    """Argument values coerced as graphql-core would (enums to members, dates parsed);
    None when anything is off, so the resolvers report it."""
    values: dict[str, Any] = {}
    try:
        for argument in node.arguments or ():
            definition = definitions.get(argument.name.value)
            if definition is None:
                return None
            if isinstance(argument.value, VariableNode):
                name = argument.value.name.value
                if name not in variables:
                    continue
                value = coerce_input_value(variables[name], definition.type)
            else:
                value = value_from_ast(argument.value, definition.type, None)
            if value is Undefined:
                return None
            values[argument.name.value] = value
    except (GraphQLError, ValueError, TypeError):
        return None
    return values


class CompiledAgreementPages(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.result is None and not context.pre_execution_errors:
            data = await self._try(
                context.graphql_document, context.variables or {}, context.context
            )
            if data is not None:
                context.result = ExecutionResult(data=data, errors=None)
        yield

    async def _try(self, document: Any, variables: dict[str, Any], ctx: Any) -> Any:
        if document is None or not isinstance(ctx, Context) or len(document.definitions) != 1:
            return None
        operation = document.definitions[0]
        if not isinstance(operation, OperationDefinitionNode) or (
            operation.operation is not OperationType.QUERY or operation.directives
        ):
            return None
        fields = operation.selection_set.selections
        if len(fields) != 1 or not isinstance(fields[0], FieldNode):
            return None
        top = fields[0]
        if top.name.value != "agreements" or top.directives:
            return None
        query_type = self.execution_context.schema._schema.query_type
        assert query_type is not None, "the schema has a Query type"
        args = _arguments(top, query_type.fields["agreements"].args, variables)
        if args is None:
            return None
        plan = Plan()
        body = _connection(top.selection_set, plan)
        if body is None:
            return None
        try:
            first = page_size(args.get("first"))
            filters = _input(inputs.AgreementFilter, args.get("filter")).to_query()
            order = _input(inputs.AgreementOrder, args.get("orderBy")).to_query()
            query = page_query(filters, order, first, args.get("after"), args.get("asOf"))
        except ClientError:
            return None  # the resolvers raise the same error, with its message
        ctes = f"{query.ctes}, " if query.ctes else ""
        sql = (
            f"WITH {ctes}page AS ({query.rows}),"
            " shown AS (SELECT *, row_number() OVER (ORDER BY sort_value"
            f" {order.direction.value}, id {order.direction.value}) AS rn"
            " FROM page ORDER BY rn LIMIT :first),"
            f" counted AS ({query.count})"
            f" SELECT CAST({body} AS text)"
        )
        params = {**query.params, **plan.params, "first": first, "ordering": order.name}
        positional, names = _positional(sql)
        async with ctx.engine.connect() as conn:
            # Straight to asyncpg: SQLAlchemy's text() handling of a statement this long
            # costs more than PostgreSQL takes to answer it.
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            json_text = await raw.fetchval(positional, *(params[name] for name in names))
        key = top.alias.value if top.alias else "agreements"
        return {key: orjson.Fragment(json_text)}


_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=512)
def _positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters → asyncpg's `$n`, with the names in order (cached per shape)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


def _input(cls: type[T], values: dict[str, Any] | None) -> T:
    """The strawberry input object for coerced argument values (GraphQL names)."""
    return cls(**{_SNAKE.sub("_", name).lower(): value for name, value in (values or {}).items()})
