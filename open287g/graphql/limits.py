"""Query limits, measured in one walk of the document after validation and before any
resolver runs: depth, aliases and an estimated cost.

Cost is GitHub-style: a connection field multiplies its subtree by `first` (default 20), so
`agencies(first: 100) { agreements(first: 100) { … } }` costs 100 × 100 × fields. Fields
that read more than a page carry what they scan (`SCAN_COSTS`): statistics read whole
aggregate tables, so `detainerStats` costs `DETAINER_STATS_PER_DIMENSION` × (1 + its
`groupBy` dimensions) plus its fields: six fit in one query; 15 aliased copies are refused
before any SQL runs.

Argument values (`first`, `groupBy`) are read with graphql-core's own coercion over the
coerced variables (operation defaults applied, `100.0` for an `Int` read as 100), so what
is charged is what the executor will run.

Fragments count where they are used (they cannot hide depth, aliases or cost), but each
fragment is measured once and memoised: the walk is linear in the document, so a
fragment spreading another twice, twenty levels deep (2^20 uses), is measured in
microseconds, not seconds. Introspection (`__schema`, `__type`) is free but may nest at
most `MAX_INTROSPECTION_LISTS` lists (`types { fields { args … } }`: the standard
introspection query), since each level multiplies the answer.

Directives are bounded before validation (`directive_errors`, called by the document
cache before it validates): at most `MAX_DIRECTIVES_PER_LOCATION` on one field, fragment,
operation or variable (the schema's executable directives, `@skip` and `@include`, are
neither repeatable, so three at one place is always wrong), at most `MAX_DIRECTIVES` in the
document, and none the schema does not declare. Validation would reject all of these too,
but only after checking each directive at each place and writing an error for every one;
this walk is linear and answers once, with one error per kind of excess.

These limits live here rather than in strawberry's QueryDepthLimiter/MaxAliasesLimiter:
those add per-request validation rules, which defeats the validation cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.type.introspection import (
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    TypeNameMetaFieldDef,
)
from strawberry.extensions import SchemaExtension

from open287g.db.queries.ids import MAX_IDS
from open287g.db.queries.pagination import DEFAULT_PAGE, MAX_PAGE
from open287g.graphql.variables import coerce, operation_of

CONNECTION_FIELDS = frozenset(
    {
        "agreements",
        "agencies",
        "jurisdictions",
        "facilities",
        "agreementChanges",
        "documents",
        "observations",
    }
)
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_DIRECTIVES_PER_LOCATION = 2
MAX_DIRECTIVES = 30
MAX_COST = 25_000
MAX_INTROSPECTION_LISTS = 3
DETAINER_STATS_PER_DIMENSION = 2_000
AGREEMENT_STATS_PER_DIMENSION = 200
# What a field reads beyond its own row, as a fixed estimate in rows (documented in the
# README): lists that are not paginated, and statistics (by `groupBy`, below).
SCAN_COSTS = {
    "programModels": 4,
    "datasets": 200,
    "officials": 5,
    "agreementChanges": 1_000,
    "pageText": 200,  # a document's pages (at most 60), each a few kB of text
    # The data-quality report (db/queries/quality.py): repairs and rejections grouped
    # (tens of groups), and every cross-check's flags (a few hundred).
    "loadIssues": 50,
    "flags": 300,
    "flagCounts": 300,
    "policies": 10,  # a jurisdiction's assertions: one per source (a handful)
    "servedJurisdictions": 3,  # an agency's own, and the counties an override adds
    "policyDisagreements": 50,  # where policy sources disagree (tens)
}
_CAP = 10**12  # costs saturate here; anything near it is refused anyway

_EMPTY_VARIABLES = VariableValues(sources={}, coerced={})


@dataclass(frozen=True)
class Measure:
    depth: int = 0  # levels of fields, counting this selection's own
    aliases: int = 0
    cost: int = 0
    lists: int = 0  # nested introspection lists


def _combine(a: Measure, b: Measure) -> Measure:
    return Measure(
        max(a.depth, b.depth),
        min(a.aliases + b.aliases, _CAP),
        min(a.cost + b.cost, _CAP),
        max(a.lists, b.lists),
    )


class Walker:
    """Measures one operation. `visits` counts selections looked at (tests assert the
    walk is linear: fragments are measured once per use site, not once per expansion)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.visits = 0
        self._memo: dict[tuple[str, bool], Measure] = {}
        self._active: set[tuple[str, bool]] = set()

    def selection(
        self, selection: SelectionSetNode, parent: GraphQLNamedType | None, meta: bool = False
    ) -> Measure:
        total = Measure()
        for node in selection.selections:
            self.visits += 1
            if isinstance(node, FieldNode):
                total = _combine(total, self._field(node, parent, meta))
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                total = _combine(total, self.selection(node.selection_set, inner, meta))
            elif isinstance(node, FragmentSpreadNode):
                total = _combine(total, self._fragment(node.name.value, meta))
        return total

    def _fragment(self, name: str, meta: bool) -> Measure:
        key = (name, meta)
        if key in self._memo:
            return self._memo[key]
        definition = self.fragments.get(name)
        if definition is None or key in self._active:
            return Measure()  # unknown or cyclic fragments are validation errors already
        self._active.add(key)
        condition = self.schema.get_type(definition.type_condition.name.value)
        measured = self.selection(definition.selection_set, condition, meta)
        self._active.discard(key)
        self._memo[key] = measured
        return measured

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, meta: bool) -> Measure:
        name = node.name.value
        aliases = 1 if node.alias is not None else 0
        definition = _field_definition(self.schema, parent, name)
        child = get_named_type(definition.type) if definition else None
        if meta or name.startswith("__"):
            # Introspection: free, but its nested lists multiply the answer.
            below = (
                self.selection(node.selection_set, child, meta=True)
                if node.selection_set
                else Measure()
            )
            is_list = definition is not None and is_list_type(get_nullable_type(definition.type))
            return Measure(0, aliases + below.aliases, 0, below.lists + int(is_list))
        below = self.selection(node.selection_set, child) if node.selection_set else Measure()
        arguments = self._arguments(definition, node)
        cost = _cost(name, arguments, below.cost)
        return Measure(1 + below.depth, min(aliases + below.aliases, _CAP), cost, below.lists)

    def _arguments(self, definition: GraphQLField | None, node: FieldNode) -> dict[str, Any]:
        if definition is None or not node.arguments:
            return {}
        try:
            return get_argument_values(definition, node, self.variables)
        except GraphQLError:
            return {}  # the executor reports it; nothing runs


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    meta = {
        "__schema": SchemaMetaFieldDef,
        "__type": TypeMetaFieldDef,
        "__typename": TypeNameMetaFieldDef,
    }
    if name in meta:
        return meta[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _cost(name: str, arguments: dict[str, Any], below: int) -> int:
    if name == "detainerStats" or name == "agreementStats":
        weight = (
            DETAINER_STATS_PER_DIMENSION
            if name == "detainerStats"
            else AGREEMENT_STATS_PER_DIMENSION
        )
        dimensions = len(set(arguments.get("groupBy") or ()))
        return min(weight * (1 + dimensions) + 1 + below, _CAP)
    scan = SCAN_COSTS.get(name, 0)
    if name == "nodes":  # each id asked is an object below (more than MAX_IDS: refused)
        ids = arguments.get("ids")
        count = min(len(ids), MAX_IDS + 1) if isinstance(ids, list) else 1
        return min(count * (1 + below), _CAP)
    if name in CONNECTION_FIELDS:
        # The window's size: `last` when paging backwards, else `first` (its default 20).
        last = arguments.get("last")
        wanted = last if isinstance(last, int) else arguments.get("first")
        # Past MAX_PAGE nothing runs: the page size is refused with its own message.
        size = min(wanted, MAX_PAGE) if isinstance(wanted, int) and wanted >= 0 else DEFAULT_PAGE
        return min(scan + size * (1 + below), _CAP)
    return min(max(scan, 1) * (1 + below), _CAP)


def violations(measured: Measure) -> list[str]:
    found = []
    if measured.depth > MAX_DEPTH:
        found.append(f"query exceeds maximum operation depth of {MAX_DEPTH} ({measured.depth})")
    if measured.aliases > MAX_ALIASES:
        found.append(f"{measured.aliases:,} aliases found; the maximum is {MAX_ALIASES}")
    if measured.cost > MAX_COST:
        found.append(
            f"query too expensive: an estimated {measured.cost:,} nodes, over the limit of "
            f"{MAX_COST:,}; ask for smaller pages (`first`) or fewer nested connections"
        )
    if measured.lists > MAX_INTROSPECTION_LISTS:
        found.append(
            f"introspection nests {measured.lists} lists; the maximum is {MAX_INTROSPECTION_LISTS}"
        )
    return found


def _directive_lists(document: DocumentNode) -> Iterator[tuple[DirectiveNode, ...]]:
    """The directives of every place in the document that can carry some: operations,
    variables, fragments, fields, spreads and inline fragments (an explicit stack: a
    document nested two thousand levels deep must not exhaust Python's)."""
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        directives = getattr(node, "directives", None)
        if directives:
            yield tuple(directives)
        stack.extend(getattr(node, "variable_definitions", None) or ())
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def directive_errors(schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
    """Directive excesses (module doc), found in one walk before validation does any work."""
    known = {directive.name for directive in schema.directives}
    total = crowded = 0
    unknown: list[str] = []
    for directives in _directive_lists(document):
        total += len(directives)
        crowded = max(crowded, len(directives))
        unknown += [d.name.value for d in directives if d.name.value not in known]
    errors = []
    if unknown:
        names = ", ".join(f"@{name}" for name in dict.fromkeys(unknown))
        allowed = ", ".join(f"@{name}" for name in sorted(known))
        errors.append(GraphQLError(f"unknown directives ({names}); this schema declares {allowed}"))
    if crowded > MAX_DIRECTIVES_PER_LOCATION:
        errors.append(
            GraphQLError(
                f"{crowded} directives at one location; the maximum is"
                f" {MAX_DIRECTIVES_PER_LOCATION}"
            )
        )
    if total > MAX_DIRECTIVES:
        errors.append(GraphQLError(f"{total:,} directives found; the maximum is {MAX_DIRECTIVES}"))
    return errors


class QueryLimits(SchemaExtension):
    """Must come after the document cache in the schema's extensions: it runs once the
    document is validated, and adds its errors before strawberry decides to execute."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            operation = operation_of(document, context.operation_name)
            if operation is not None:
                schema = context.schema._schema
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                variables = coerce(schema, operation, context.variables) or _EMPTY_VARIABLES
                root = schema.get_root_type(operation.operation)
                walker = Walker(schema, fragments, variables)
                measured = walker.selection(operation.selection_set, root)
                errors = [GraphQLError(message) for message in violations(measured)]
                if errors:
                    context.pre_execution_errors = [
                        *(context.pre_execution_errors or []),
                        *errors,
                    ]
        yield
