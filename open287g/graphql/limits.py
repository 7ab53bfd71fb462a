"""Estimated cost of a query, checked after validation and before any resolver runs.

GitHub-style: a connection field multiplies its subtree by `first` (default 20), so
`agencies(first: 100) { agreements(first: 100) { … } }` costs 100 × 100 × fields. Fragments
are expanded, so they cannot hide cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from open287g.db.queries.pagination import DEFAULT_PAGE

CONNECTION_FIELDS = frozenset({"agreements", "agencies", "jurisdictions", "agreementChanges"})
MAX_COST = 25_000


def estimate_cost(
    selection: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    seen: frozenset[str] = frozenset(),
) -> int:
    if selection is None:
        return 0
    total = 0
    for field, within in _fields(selection, fragments, seen):
        multiplier = _first(field, variables) if field.name.value in CONNECTION_FIELDS else 1
        total += multiplier * (1 + estimate_cost(field.selection_set, fragments, variables, within))
    return total


def _fields(
    selection: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str]
) -> Iterator[tuple[FieldNode, frozenset[str]]]:
    for node in selection.selections:
        if isinstance(node, FieldNode):
            yield node, seen
        elif isinstance(node, InlineFragmentNode):
            yield from _fields(node.selection_set, fragments, seen)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            if name in seen or name not in fragments:
                continue  # cycles and unknown fragments are validation errors already
            yield from _fields(fragments[name].selection_set, fragments, seen | {name})


def _first(field: FieldNode, variables: dict[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(1, int(value.value))
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return max(1, int(given)) if isinstance(given, int) else DEFAULT_PAGE
    return DEFAULT_PAGE


class CostLimiter(SchemaExtension):
    """Must come after ValidationCache in the schema's extensions: it runs once the
    document is validated, and adds its error before strawberry decides to execute."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            variables = context.variables or {}
            cost = sum(
                estimate_cost(d.selection_set, fragments, variables)
                for d in document.definitions
                if isinstance(d, OperationDefinitionNode)
            )
            if cost > MAX_COST:
                context.pre_execution_errors = [
                    *(context.pre_execution_errors or []),
                    GraphQLError(
                        f"query too expensive: an estimated {cost:,} nodes, over the limit of "
                        f"{MAX_COST:,}; ask for smaller pages (`first`) or fewer nested "
                        "connections"
                    ),
                ]
        yield
