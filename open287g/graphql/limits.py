"""Query limits, measured in one walk of the document after validation and before any
resolver runs: depth, aliases and an estimated cost.

Cost is GitHub-style: a connection field multiplies its subtree by `first` (default 20), so
`agencies(first: 100) { agreements(first: 100) { … } }` costs 100 × 100 × fields. Fragments
are expanded where they are used, so they cannot hide depth, aliases or cost.

These limits live here rather than in strawberry's QueryDepthLimiter/MaxAliasesLimiter:
those add per-request validation rules, which defeats the validation cache (validation
then costs more than answering a page).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_COST = 25_000


@dataclass
class Measures:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


def measure(
    selection: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    totals: Measures,
    depth: int = 1,
    seen: frozenset[str] = frozenset(),
) -> int:
    """Walk `selection`, adding depth and aliases to `totals`; return its cost."""
    if selection is None:
        return 0
    cost = 0
    for field, within in _fields(selection, fragments, seen):
        if field.alias is not None:
            totals.aliases += 1
        if field.name.value.startswith("__"):
            continue  # introspection fields do not count towards depth or cost
        totals.depth = max(totals.depth, depth)
        multiplier = _first(field, variables) if field.name.value in CONNECTION_FIELDS else 1
        below = measure(field.selection_set, fragments, variables, totals, depth + 1, within)
        cost += multiplier * (1 + below)
    return cost


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


def violations(totals: Measures) -> list[str]:
    found = []
    if totals.depth > MAX_DEPTH:
        found.append(f"query exceeds maximum operation depth of {MAX_DEPTH} ({totals.depth})")
    if totals.aliases > MAX_ALIASES:
        found.append(f"{totals.aliases} aliases found; the maximum is {MAX_ALIASES}")
    if totals.cost > MAX_COST:
        found.append(
            f"query too expensive: an estimated {totals.cost:,} nodes, over the limit of "
            f"{MAX_COST:,}; ask for smaller pages (`first`) or fewer nested connections"
        )
    return found


class QueryLimits(SchemaExtension):
    """Must come after ValidationCache in the schema's extensions: it runs once the
    document is validated, and adds its errors before strawberry decides to execute."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            totals = Measures()
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    totals.cost += measure(
                        definition.selection_set, fragments, context.variables or {}, totals
                    )
            errors = [GraphQLError(message) for message in violations(totals)]
            if errors:
                context.pre_execution_errors = [*(context.pre_execution_errors or []), *errors]
        yield
