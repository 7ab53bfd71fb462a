"""Differential test of the GraphQL execution paths, on the 54 real ICE snapshots.

Hypothesis generates valid queries from the schema itself (hypothesis-graphql: random
field subsets and arguments), then rewrites each one at random: argument values at every
nesting level hoisted into variables (some as operation defaults, some `Int`s sent as
floats), aliases, named and inline fragments, `@include`/`@skip` (literal or variable),
real ids, states and cursors (for every ordering, so pages are walked through cursors) in
place of random strings. Every document runs on the schema with the compiled agreement
pages and on the schema without them; both must give the same `data` and the same
`errors` (messages, locations, paths).

`make test` runs `EXAMPLES` (500) with a fixed seed; `make fuzz` sets
OPEN287G_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections import Counter
from typing import Any, cast

import pytest
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    ConstValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    NameNode,
    ObjectFieldNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    parse_type,
    print_ast,
)
from graphql.utilities import value_from_ast_untyped
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.graphql.plan import CompiledOperations
from open287g.graphql.schema import build_schema
from tests.support.graphql_support import database_url, execute, needs_data

__all__ = ["database_url"]
pytestmark = needs_data

EXAMPLES = int(os.environ.get("OPEN287G_FUZZ_EXAMPLES", "500"))
COMPILED = build_schema()
RESOLVERS = build_schema(compiled=False)
SDL = str(COMPILED)
STATES = ["TX", "texas", "fl", "Florida", "NY", "ca", "ZZ", "Texass", ""]
DATES = st.dates(dt.date(2025, 5, 1), dt.date(2025, 7, 20)).map(
    lambda d: StringValueNode(value=d.isoformat())
)
GENERATED = st.one_of(
    # Mostly single `agreements` queries (the compiled path's domain), some of anything.
    queries(SDL, fields=["agreements"], custom_scalars={"Date": DATES}, print_ast=lambda d: d),
    queries(SDL, fields=["agreements"], custom_scalars={"Date": DATES}, print_ast=lambda d: d),
    queries(SDL, custom_scalars={"Date": DATES}, print_ast=lambda d: d),
)


@dataclasses.dataclass
class Pools:
    """Real values to put where hypothesis-graphql draws random strings."""

    cursors: list[str]
    ids: list[str]


_POOLS: list[Pools] = []


async def pools(engine: AsyncEngine) -> Pools:
    if _POOLS:
        return _POOLS[0]
    cursors: list[str] = []
    for order in (
        "{field: ID}",
        "{field: SIGNED_ON, direction: DESC}",
        "{field: STATE}",
        "{field: FIRST_SEEN, direction: DESC}",
    ):
        after: str | None = None
        for _ in range(3):
            data, _errors = await execute(
                engine,
                f"query ($a: String) {{ agreements(first: 40, after: $a, orderBy: {order})"
                " { edges { cursor } pageInfo { endCursor } } }",
                {"a": after},
            )
            page = data["agreements"]
            cursors += [edge["cursor"] for edge in page["edges"][::13]]
            after = page["pageInfo"]["endCursor"]
    data, _errors = await execute(
        engine,
        "{ agencies(first: 30) { edges { cursor node { id agreements { edges { cursor } } } } }"
        " jurisdictions(first: 30) { edges { cursor node { id } } }"
        " agreements(first: 30) { edges { node { id } } } programModels { id }"
        ' agreementChanges(from: "2025-06-01", to: "2025-07-11", first: 5) { edges { cursor } } }',
    )
    ids = [m["id"] for m in data["programModels"]]
    for name in ("agencies", "jurisdictions", "agreements"):
        ids += [edge["node"]["id"] for edge in data[name]["edges"]]
    for edge in data["agencies"]["edges"]:
        cursors += [e["cursor"] for e in edge["node"]["agreements"]["edges"]]
    cursors += [edge["cursor"] for edge in data["agencies"]["edges"][::7]]
    cursors += [edge["cursor"] for edge in data["agreementChanges"]["edges"]]
    _POOLS.append(Pools(cursors, ids))
    return _POOLS[0]


class Rewriter:
    """Rewrites a generated document with choices drawn from Hypothesis."""

    def __init__(self, data: st.DataObject, schema: GraphQLSchema, pool: Pools) -> None:
        self.data = data
        self.schema = schema
        self.pool = pool
        self.definitions: list[VariableDefinitionNode] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[FragmentDefinitionNode] = []
        self.counter = 0

    def chance(self, percent: int) -> bool:
        return self.data.draw(st.integers(0, 99)) < percent

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def document(self, document: DocumentNode) -> DocumentNode:
        [operation] = document.definitions
        assert isinstance(operation, OperationDefinitionNode)
        query_type = self.schema.query_type
        assert query_type is not None
        selection = self.selection_set(operation.selection_set, query_type)
        rewritten = OperationDefinitionNode(
            operation=OperationType.QUERY,
            name=NameNode(value="Q") if self.chance(30) else None,
            variable_definitions=tuple(self.definitions),
            directives=(),
            selection_set=selection,
        )
        return DocumentNode(definitions=(rewritten, *self.fragments))

    def selection_set(
        self, selection: SelectionSetNode, parent: GraphQLNamedType
    ) -> SelectionSetNode:
        nodes: list[SelectionNode] = []
        for node in selection.selections:
            if isinstance(node, FieldNode):
                node = self.field(node, parent)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                assert inner is not None
                node = dataclasses.replace(
                    node, selection_set=self.selection_set(node.selection_set, inner)
                )
            if self.chance(8):
                node = dataclasses.replace(node, directives=(self.directive(),))
            nodes.append(node)
        if len(nodes) > 1 and self.chance(20):
            cut = self.data.draw(st.integers(1, len(nodes) - 1))
            nodes = [*nodes[:cut], self.wrap(nodes[cut:], parent)]
        return SelectionSetNode(selections=tuple(nodes))

    def wrap(self, nodes: list[SelectionNode], parent: GraphQLNamedType) -> SelectionNode:
        """Move selections into a named fragment, a typed or an untyped inline fragment."""
        inner = SelectionSetNode(selections=tuple(nodes))
        condition = NamedTypeNode(name=NameNode(value=parent.name))
        how = self.data.draw(st.sampled_from(["named", "typed", "untyped"]))
        if how == "named":
            name = self.name("F")
            self.fragments.append(
                FragmentDefinitionNode(
                    name=NameNode(value=name),
                    type_condition=condition,
                    directives=(),
                    selection_set=inner,
                )
            )
            return FragmentSpreadNode(name=NameNode(value=name), directives=())
        return InlineFragmentNode(
            type_condition=condition if how == "typed" else None,
            directives=(),
            selection_set=inner,
        )

    def directive(self) -> DirectiveNode:
        keep = self.data.draw(st.booleans())
        value: ValueNode = BooleanValueNode(value=keep)
        if self.chance(50):
            value = self.variable("Boolean!", keep, value)
        name = self.data.draw(st.sampled_from(["include", "skip"]))
        return DirectiveNode(
            name=NameNode(value=name),
            arguments=(ArgumentNode(name=NameNode(value="if"), value=value),),
        )

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> FieldNode:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return node
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return node
        arguments = tuple(
            dataclasses.replace(
                argument,
                value=self.value(
                    argument.value, definition.args[argument.name.value].type, argument.name.value
                ),
            )
            for argument in node.arguments or ()
        )
        child = get_named_type(definition.type)
        selection = node.selection_set
        if selection is not None:
            selection = self.selection_set(selection, child)
        alias = NameNode(value=self.name("k")) if self.chance(10) else node.alias
        return dataclasses.replace(node, alias=alias, arguments=arguments, selection_set=selection)

    def value(self, value: ValueNode, type_: GraphQLInputType, hint: str) -> ValueNode:
        value = self.substitute(value, hint)
        if self.chance(25):
            given = value_from_ast_untyped(value)
            if isinstance(given, int) and not isinstance(given, bool) and self.chance(30):
                given = float(given)  # graphql-core coerces 20.0 to an Int
            return self.variable(str(type_), given, value)
        nullable = get_nullable_type(type_)
        if isinstance(value, ObjectValueNode) and isinstance(nullable, GraphQLInputObjectType):
            return dataclasses.replace(
                value,
                fields=tuple(
                    ObjectFieldNode(
                        name=f.name,
                        value=self.value(f.value, nullable.fields[f.name.value].type, f.name.value),
                    )
                    for f in value.fields
                ),
            )
        if isinstance(value, ListValueNode) and isinstance(nullable, GraphQLList):
            return dataclasses.replace(
                value, values=tuple(self.value(v, nullable.of_type, hint) for v in value.values)
            )
        return value

    def substitute(self, value: ValueNode, hint: str) -> ValueNode:
        """Real values instead of random strings, often enough to reach past the checks."""
        if not isinstance(value, StringValueNode) or not self.chance(70):
            if hint in ("first", "last") and isinstance(value, IntValueNode) and self.chance(50):
                return IntValueNode(value=str(self.data.draw(st.integers(0, 100))))
            return value
        if hint in ("after", "before"):
            return StringValueNode(value=self.data.draw(st.sampled_from(self.pool.cursors)))
        if hint == "id":
            return StringValueNode(value=self.data.draw(st.sampled_from(self.pool.ids)))
        if hint == "state":
            return StringValueNode(value=self.data.draw(st.sampled_from(STATES)))
        return value

    def variable(self, type_: str, given: Any, literal: ValueNode) -> VariableNode:
        name = self.name("v")
        default = self.chance(25)
        self.definitions.append(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=parse_type(type_),
                default_value=cast(ConstValueNode, literal) if default else None,
                directives=(),
            )
        )
        if not default:
            self.variables[name] = given
        return VariableNode(name=NameNode(value=name))


OUTCOMES: Counter[str] = Counter()


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
@given(generated=GENERATED, data=st.data())
async def test_compiled_and_resolver_paths_agree(
    engine: AsyncEngine, generated: DocumentNode, data: st.DataObject
) -> None:
    pool = await pools(engine)
    rewriter = Rewriter(data, COMPILED._schema, pool)
    document = rewriter.document(generated)
    query = print_ast(document)
    answered: list[object] = []
    original = CompiledOperations.plan

    def spy(self: CompiledOperations) -> Any:
        answer = original(self)
        answered.append(answer)
        return answer

    CompiledOperations.plan = spy  # type: ignore[method-assign]
    try:
        compiled = await execute(engine, query, rewriter.variables, schema=COMPILED)
    finally:
        CompiledOperations.plan = original  # type: ignore[method-assign]
    resolved = await execute(engine, query, rewriter.variables, schema=RESOLVERS)
    assert compiled == resolved, (query, rewriter.variables)
    OUTCOMES["examples"] += 1
    OUTCOMES["compiled" if any(a is not None for a in answered) else "resolvers"] += 1
    OUTCOMES["with data" if compiled[0] else "errors only"] += 1
    OUTCOMES["variables"] += bool(rewriter.variables or rewriter.definitions)
    OUTCOMES["fragments"] += bool(rewriter.fragments)


def test_the_differential_run_reached_both_paths() -> None:
    """Runs after the property (same module, in order): the generated documents must have
    exercised what they are meant to, or the comparison proves little."""
    print(f"differential outcomes: {dict(OUTCOMES)}")
    assert OUTCOMES["examples"] >= min(EXAMPLES, 200) * 0.9
    assert OUTCOMES["compiled"] >= OUTCOMES["examples"] * 0.15, OUTCOMES
    assert OUTCOMES["with data"] >= OUTCOMES["examples"] * 0.3, OUTCOMES
    assert OUTCOMES["variables"] >= OUTCOMES["examples"] * 0.3, OUTCOMES
    assert OUTCOMES["fragments"] >= OUTCOMES["examples"] * 0.1, OUTCOMES
