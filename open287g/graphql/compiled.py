"""The compiled path for the hottest query: a page of agreements with their agency,
jurisdiction and model becomes ONE SQL statement that returns the response JSON.

graphql-core spends ~3 ms of CPU completing 100 objects × 10 fields; PostgreSQL builds the
same JSON in well under that (PERFORMANCE.md). So, after strawberry has parsed, validated
and checked the limits of a query, this extension plans it: when every field asked is one
the planner knows (no fragments, directives or duplicate keys), it runs the SQL and hands
strawberry a finished result; otherwise it steps aside and the resolvers run as usual.
Arguments are coerced by graphql-core and converted by strawberry exactly as for the
resolver, and an exception becomes the same located (then masked) error a resolver's
would. Both paths give identical answers and errors (tests/test_graphql_differential.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationType,
    SelectionSetNode,
    located_error,
)
from graphql.execution.values import get_argument_values
from strawberry.extensions import SchemaExtension
from strawberry.types.arguments import convert_arguments

from open287g.db.queries.agreements import page_query
from open287g.graphql import inputs
from open287g.graphql.context import Context
from open287g.graphql.variables import coerce, operation_of

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
    "activatedOn": _date("p.activated_on"),
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


class CompiledAgreementPages(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.result is None and not context.pre_execution_errors:
            result = await self._try(context.graphql_document, context.variables, context.context)
            if result is not None:
                context.result = result
        yield

    async def _try(
        self, document: DocumentNode | None, variables: dict[str, Any] | None, ctx: Any
    ) -> ExecutionResult | None:
        """The finished result, or None to let the resolvers answer."""
        if document is None or not isinstance(ctx, Context):
            return None
        operation = operation_of(document, self.execution_context.operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        fields = operation.selection_set.selections
        if operation.directives or len(fields) != 1 or not isinstance(fields[0], FieldNode):
            return None
        top = fields[0]
        if top.name.value != "agreements" or top.directives:
            return None
        plan = Plan()
        body = _connection(top.selection_set, plan)
        if body is None:
            return None
        kwargs = self._arguments(operation, top, variables)
        if kwargs is None:
            return None
        key = top.alias.value if top.alias else "agreements"
        try:
            data = await self._run(ctx, body, plan, kwargs)
        except Exception as exc:
            # Exactly what the executor makes of a resolver's exception; the schema masks
            # it (and logs the cause) like every other error.
            error = located_error(exc, [top], [key])
            return ExecutionResult(data=None, errors=[error])
        return ExecutionResult(data={key: data}, errors=None)

    def _arguments(
        self, operation: Any, top: FieldNode, variables: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The resolver's keyword arguments, coerced by graphql-core and converted by
        strawberry exactly as for the resolver (defaults, nested variables, enums, dates);
        None when they do not coerce, so the executor reports why."""
        strawberry_schema = self.execution_context.schema
        graphql_schema = strawberry_schema._schema
        query_type = graphql_schema.query_type
        assert query_type is not None, "the schema has a Query type"
        definition = query_type.fields["agreements"]
        coerced = coerce(graphql_schema, operation, variables)
        if coerced is None:
            return None
        try:
            values = get_argument_values(definition, top, coerced)
        except GraphQLError:
            return None
        field = definition.extensions["strawberry-definition"]
        converted: dict[str, Any] = convert_arguments(
            values,
            field.arguments,
            scalar_registry=strawberry_schema.schema_converter.scalar_registry,
            config=strawberry_schema.config,
        )
        return converted

    async def _run(self, ctx: Context, body: str, plan: Plan, kwargs: dict[str, Any]) -> Any:
        filters, order, first = inputs.agreement_page_arguments(
            kwargs.get("first"), kwargs.get("filter"), kwargs.get("order_by")
        )
        query = page_query(filters, order, first, kwargs.get("after"), kwargs.get("as_of"))
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
        return orjson.Fragment(json_text)


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
