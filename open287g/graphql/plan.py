"""GraphQL operations compiled to one SQL statement, and the plan cache.

After strawberry has parsed, validated and checked the limits of an operation, the
`CompiledOperations` extension reads it with graphql-core's own field collection
(fragments, inline fragments, `@include`/`@skip`, aliases and merged fields exactly as the
executor sees them) and argument coercion, into the compiler's `Pick` tree
(`open287g.db.compiler`), which PostgreSQL answers with the response JSON: one statement
for the whole operation, its bytes passed through to the client.

When a field is not declared in SQL (see README "Where an entity is declared"), or an
argument is refused (a bad cursor, id or page size), the operation runs on the resolvers
instead, which are generated from the same declarations, and give the same data and
errors (tests/graphql/test_graphql_differential.py).

A compiled operation is remembered by (document, operation name, variables) in a
bounded `PlanCache`: the next identical request skips parsing, validation, limits and
compilation, and only runs the statement.

The limits (`graphql/limits.py`) keep their own walk, before this one, on purpose: they
measure each fragment once (a fragment spreading another twice, twenty levels deep, costs
microseconds), whereas field collection expands the answer's shape. Only an operation the
limits accepted, whose shape is therefore bounded, is expanded here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationType,
    located_error,
)
from graphql.execution.collect_fields import (
    FragmentDetails,
)
from strawberry.extensions import SchemaExtension

from open287g.db.compiler import NotCompilable, Statement, bind, positional
from open287g.db.queries import changes
from open287g.errors import ClientError
from open287g.graphql import roots
from open287g.graphql.context import Context
from open287g.graphql.relay import RELAY
from open287g.graphql.selection import Reader
from open287g.graphql.variables import coerce, operation_of

PLAN_CACHE_BYTES = 32 * 2**20
# Plans kept per document (and operation name), one per set of variables: a client that
# varies the variables of one document churns that document's plans, never the others'.
PLANS_PER_DOCUMENT = 64


@dataclass(frozen=True)
class Plan:
    """A compiled operation: its statement (asyncpg `$n` form), the values to bind, and the
    response key each result column answers."""

    sql: str
    values: tuple[Any, ...]
    keys: tuple[str, ...]

    @property
    def cost(self) -> int:
        # A text value (a search, a page list) is charged its length: counting it as 64
        # bytes let plans holding megabytes of values pass for kilobytes.
        values = sum(64 + (len(v) if isinstance(v, str) else 0) for v in self.values)
        return 512 + len(self.sql) + values


PlanKey = tuple[str, str | None, bytes]  # document, operation name, canonical variables


class PlanCache:
    """An LRU of plans bounded by their estimated bytes, and by PLANS_PER_DOCUMENT plans
    (variable sets) per document and operation name, each document with its own LRU."""

    def __init__(
        self, budget: int = PLAN_CACHE_BYTES, per_document: int = PLANS_PER_DOCUMENT
    ) -> None:
        self.budget = budget
        self.per_document = per_document
        self.total = 0
        self._plans: OrderedDict[PlanKey, Plan] = OrderedDict()
        self._documents: dict[tuple[str, str | None], OrderedDict[PlanKey, None]] = {}

    @staticmethod
    def key(query: str, operation: str | None, variables: dict[str, Any] | None) -> PlanKey | None:
        try:
            canonical = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        return (query, operation, canonical)

    def get(self, key: PlanKey) -> Plan | None:
        plan = self._plans.get(key)
        if plan is not None:
            self._plans.move_to_end(key)
            self._documents[key[:2]].move_to_end(key)
        return plan

    def put(self, key: PlanKey, plan: Plan) -> None:
        cost = self._cost(key, plan)
        if cost > self.budget or key in self._plans:
            return
        siblings = self._documents.setdefault(key[:2], OrderedDict())
        if len(siblings) >= self.per_document:
            self._drop(next(iter(siblings)))  # the document's least recently used plan
        while self._plans and self.total + cost > self.budget:
            self._drop(next(iter(self._plans)))
        self._plans[key] = plan
        self._documents.setdefault(key[:2], OrderedDict())[key] = None
        self.total += cost

    def _drop(self, key: PlanKey) -> None:
        self.total -= self._cost(key, self._plans.pop(key))
        siblings = self._documents[key[:2]]
        del siblings[key]
        if not siblings:
            del self._documents[key[:2]]

    @staticmethod
    def _cost(key: PlanKey, plan: Plan) -> int:
        return plan.cost + len(key[0]) + len(key[2])

    def __len__(self) -> int:
        return len(self._plans)


def compile_operation(reader: Reader) -> Plan:
    stmt = Statement(shape=RELAY)
    columns: list[str] = []
    keys: list[str] = []
    query = reader.schema.query_type
    assert query is not None
    for key, details in reader.root().items():
        name = details[0].node.name.value
        if name == "__typename":
            sql = "to_json(CAST('Query' AS text))"
        elif name not in query.fields:  # introspection (__schema, __type): the executor's
            raise NotCompilable(name)
        else:
            definition = query.fields[name]
            python_name = definition.extensions["strawberry-definition"].python_name
            args = reader.arguments(definition, details)
            sql = roots.root_sql(stmt, reader, python_name, key, args, definition, details)
        columns.append(f"CAST({sql} AS text)")
        keys.append(key)
    select = ", ".join([*columns, "v.*"])  # every field may be skipped: data is {}
    sql, names = positional(f"SELECT {select} FROM ({changes.DATA_VERSION_SQL}) v")  # noqa: S608
    return Plan(sql, tuple(stmt.params[n] for n in names), tuple(keys))


async def run(plan: Plan, context: Context) -> tuple[dict[str, Any], changes.DataVersion]:
    """The data of a compiled plan, and the data version it was read at (one snapshot)."""
    async with context.engine.connect() as conn:
        # Straight to asyncpg: SQLAlchemy's text() handling of a statement this long
        # costs more than PostgreSQL takes to answer it.
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        row = await raw.fetchrow(plan.sql, *bind(plan.values, context.settings))
    assert row is not None
    data = {
        key: None if text is None else orjson.Fragment(text)
        for key, text in zip(plan.keys, row, strict=False)
    }
    return data, changes.version_of(row[len(plan.keys) :])


class CompiledOperations(SchemaExtension):
    """Answers a validated operation with one statement when it compiles; else steps aside
    and the resolvers run."""

    def __init__(self, plans: PlanCache) -> None:
        self.plans = plans

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.result is None and not context.pre_execution_errors:
            ctx = context.context
            if isinstance(ctx, Context):
                plan = self.plan()
                if plan is not None:
                    context.result = await answer(plan, ctx)
                    key = PlanCache.key(
                        context.query or "", context.operation_name, context.variables
                    )
                    if key is not None:
                        self.plans.put(key, plan)
        yield

    def plan(self) -> Plan | None:
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return None
        operation = operation_of(document, context.operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        schema = context.schema
        variables = coerce(schema._schema, operation, context.variables)
        if variables is None:
            return None
        fragments = {
            d.name.value: FragmentDetails(d)
            for d in document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        try:
            return compile_operation(Reader(schema, operation, fragments, variables))
        except (NotCompilable, ClientError, GraphQLError):
            return None


async def answer(plan: Plan, context: Context) -> ExecutionResult:
    try:
        data, version = await run(plan, context)
    except Exception as exc:
        # What the executor makes of a resolver's exception; the schema masks it (and
        # logs the cause) like every other error.
        return ExecutionResult(data=None, errors=[located_error(exc, [], [plan.keys[0]])])
    context.read_version = version
    return ExecutionResult(data=data, errors=None)
