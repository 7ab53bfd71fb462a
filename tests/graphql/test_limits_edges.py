"""GraphQL query limits at their edges (graphql/limits.py), measured without a database:
each limit at exactly its value and one past it, every `SCAN_COSTS` entry, the statistics
cost that lets six of them fit in one query, `first`/`last` as charged, introspection
(free, nested lists bounded under `__schema` and `__type` alike), fragments, and the
directive bounds. `make mutate` measures how many of the module's mutants these kill."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse

from open287g.graphql.limits import (
    _CAP,
    AGREEMENT_STATS_PER_DIMENSION,
    DETAINER_STATS_PER_DIMENSION,
    MAX_ALIASES,
    MAX_COST,
    MAX_DEPTH,
    MAX_DIRECTIVES,
    MAX_DIRECTIVES_PER_LOCATION,
    MAX_INTROSPECTION_LISTS,
    SCAN_COSTS,
    Measure,
    Walker,
    _combine,
    _cost,
    directive_errors,
    violations,
)
from open287g.graphql.schema import schema
from open287g.graphql.variables import coerce

SCHEMA = schema._schema


def walk(query: str, variables: dict[str, Any] | None = None) -> tuple[Measure, Walker]:
    document = parse(query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    coerced = coerce(SCHEMA, operation, variables)
    assert coerced is not None
    walker = Walker(SCHEMA, fragments, coerced)
    root = SCHEMA.get_root_type(operation.operation)
    return walker.selection(operation.selection_set, root), walker


def measure(query: str, variables: dict[str, Any] | None = None) -> Measure:
    return walk(query, variables)[0]


# --- costs -------------------------------------------------------------------------------


def test_the_scan_costs_are_the_documented_estimates() -> None:
    assert SCAN_COSTS == {
        "programModels": 4, "datasets": 200, "officials": 5, "agreementChanges": 1_000,
        "pageText": 200, "loadIssues": 50, "flags": 300, "flagCounts": 300, "policies": 10,
        "servedJurisdictions": 3, "policyDisagreements": 50,
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(set(SCAN_COSTS) - {"agreementChanges"}))
def test_a_scanned_list_costs_its_scan_times_its_fields(name: str) -> None:
    scan = SCAN_COSTS[name]
    assert _cost(name, {}, 0) == scan
    assert _cost(name, {}, 2) == scan * 3
    assert _cost(name, {"first": 1}, 0) == scan  # not a connection: `first` is no page


def test_every_scanned_field_is_charged_where_it_is() -> None:
    assert measure("{ programModels { code name } }") == Measure(2, 0, 4 * 3, 0)
    assert measure("{ datasets { __typename } }").cost == 200
    quality = "{ dataQuality { loadIssues { __typename } flags { __typename }"
    quality += " flagCounts { __typename } policyDisagreements { __typename } } }"
    assert measure(quality).cost == 1 + 50 + 300 + 300 + 50
    agency = "{ agencies(first: 2) { edges { node { officials { __typename }"
    agency += " servedJurisdictions { __typename } } } } }"
    # agencies: 2 × (1 + edges: 1 + node: 1 + officials 5 + served 3).
    assert measure(agency).cost == 2 * (1 + 1 + 1 + 5 + 3)
    jurisdiction = "{ jurisdictions(first: 3) { edges { node { policies { __typename } } } } }"
    assert measure(jurisdiction).cost == 3 * (1 + 1 + 1 + 10)


def test_an_unscanned_field_costs_one_per_level() -> None:
    assert _cost("name", {}, 0) == 1
    assert _cost("agency", {}, 5) == 6
    assert measure("{ notice }") == Measure(1, 0, 1, 0)


def test_the_statistics_cost_lets_six_fit_in_one_query_and_not_seven() -> None:
    one = "detainerStats(groupBy: [STATE]) { issued }"
    assert measure(f"{{ {one} }}").cost == DETAINER_STATS_PER_DIMENSION * 2 + 1 + 1 == 4002
    six = " ".join(f"s{i}: {one}" for i in range(6))
    assert measure(f"{{ {six} }}").cost == 6 * 4002 <= MAX_COST
    assert violations(measure(f"{{ {six} }}")) == []
    seven = f"{{ {six} s6: {one} }}"
    assert measure(seven).cost == 7 * 4002 > MAX_COST
    assert violations(measure(seven)) == [
        "query too expensive: an estimated 28,014 nodes, over the limit of 25,000; ask for "
        "smaller pages (`first`) or fewer nested connections"
    ]


def test_statistics_are_charged_per_distinct_dimension() -> None:
    assert _cost("detainerStats", {"groupBy": ["STATE", "MONTH", "STATE"]}, 0) == 2000 * 3 + 1
    assert _cost("detainerStats", {"groupBy": []}, 0) == 2000 + 1
    assert _cost("detainerStats", {}, 4) == 2000 + 1 + 4
    assert (
        _cost("agreementStats", {"groupBy": ["STATE"]}, 1) == AGREEMENT_STATS_PER_DIMENSION * 2 + 2
    )
    assert measure("{ agreementStats(groupBy: [STATE, MODEL]) { count } }").cost == 200 * 3 + 2
    assert _cost("detainerStats", {"groupBy": ["STATE"]}, _CAP) == _CAP


@pytest.mark.parametrize(
    ("arguments", "size"),
    [
        ("", 20),  # the default page
        ("(first: 7)", 7),
        ("(first: 0)", 0),
        ("(first: -1)", 20),  # refused by the resolver; charged as the default
        ("(first: 100)", 100),
        ("(first: 101)", 100),  # past MAX_PAGE nothing runs
        ("(first: 50, last: 5)", 5),
        ("(last: 3)", 3),
        ("(first: 4, last: null)", 4),
        ('(first: "x")', 20),  # not an Int: the executor reports it
    ],
)
def test_a_connection_is_charged_its_window(arguments: str, size: int) -> None:
    assert measure(f"{{ agreements{arguments} {{ __typename }} }}").cost == size
    assert measure(f"{{ agreements{arguments} {{ totalCount }} }}").cost == size * 2


def test_agreement_changes_add_their_scan_to_the_window() -> None:
    query = '{ agreementChanges(from: "2025-01-01", to: "2025-02-01", first: 2) { __typename } }'
    assert measure(query).cost == 1_000 + 2


def test_variables_are_read_as_the_executor_reads_them() -> None:
    query = "query ($n: Int = 7) { agreements(first: $n) { __typename } }"
    assert measure(query).cost == 7
    assert measure(query, {"n": 3}).cost == 3
    assert measure(query, {"n": 9.0}).cost == 9


def test_nodes_cost_each_id_asked_up_to_one_past_the_maximum() -> None:
    ids = ", ".join(f'"a{i}"' for i in range(3))
    assert measure(f"{{ nodes(ids: [{ids}]) {{ __typename }} }}").cost == 3
    assert measure(f"{{ nodes(ids: [{ids}]) {{ id }} }}").cost == 6
    many = [f"a{i}" for i in range(150)]
    query = "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename } }"
    assert measure(query, {"ids": many}).cost == 101
    assert measure(query, {"ids": many[:100]}).cost == 100
    assert measure('{ nodes(ids: "one") { __typename } }').cost == 1
    assert _cost("nodes", {}, 2) == 3
    assert _cost("nodes", {"ids": ["a"] * 10}, _CAP) == _CAP


def test_costs_multiply_down_the_tree_and_saturate() -> None:
    nested = "{ jurisdictions(first: 100) { edges { node { agencies(first: 100) { edges {"
    nested += " node { agreements(first: 100) { totalCount } } } } } } } }"
    measured = measure(nested)
    assert measured.cost == 100 * (1 + 1 + 1 + 100 * (1 + 1 + 1 + 100 * 2)) == 2_030_300
    assert measured.depth == 8
    assert _cost("agreements", {"first": 100}, _CAP) == _CAP
    assert _cost("name", {}, _CAP) == _CAP
    assert _combine(Measure(1, _CAP, _CAP, 1), Measure(3, 5, 5, 0)) == Measure(3, _CAP, _CAP, 1)
    assert _combine(Measure(4, 1, 2, 0), Measure(2, 3, 4, 2)) == Measure(4, 4, 6, 2)


# --- depth and aliases -------------------------------------------------------------------


def _nested(depth: int) -> str:
    return "{ " + "a { " * (depth - 1) + "b" + " }" * depth


def test_depth_at_exactly_the_maximum_passes() -> None:
    assert MAX_DEPTH == 10
    assert measure(_nested(10)).depth == 10
    assert violations(measure(_nested(10))) == []
    assert violations(measure(_nested(11))) == ["query exceeds maximum operation depth of 10 (11)"]


def test_fifteen_aliases_pass_and_sixteen_do_not() -> None:
    assert MAX_ALIASES == 15
    fifteen = "{ " + " ".join(f"a{i}: notice" for i in range(15)) + " }"
    assert measure(fifteen) == Measure(1, 15, 15, 0)
    assert violations(measure(fifteen)) == []
    sixteen = fifteen[:-1] + "a15: notice }"
    assert violations(measure(sixteen)) == ["16 aliases found; the maximum is 15"]
    nested = "{ a: programModels { b: code c: name } }"
    assert measure(nested).aliases == 3


def test_every_excess_is_reported_at_once() -> None:
    too_much = Measure(MAX_DEPTH + 1, 1_000, MAX_COST + 1, MAX_INTROSPECTION_LISTS + 1)
    assert violations(too_much) == [
        "query exceeds maximum operation depth of 10 (11)",
        "1,000 aliases found; the maximum is 15",
        "query too expensive: an estimated 25,001 nodes, over the limit of 25,000; ask for "
        "smaller pages (`first`) or fewer nested connections",
        "introspection nests 4 lists; the maximum is 3",
    ]
    assert violations(Measure(MAX_DEPTH, MAX_ALIASES, MAX_COST, MAX_INTROSPECTION_LISTS)) == []


# --- introspection -----------------------------------------------------------------------


def test_introspection_is_free() -> None:
    assert measure("{ __typename }") == Measure()
    free = measure("{ __schema { types { name fields { name type { name } } } } }")
    assert (free.cost, free.depth, free.lists) == (0, 0, 2)
    assert measure('{ __type(name: "Query") { name } }') == Measure()
    assert measure("{ programModels { __typename } }").cost == 4


@pytest.mark.parametrize(
    ("query", "lists"),
    [
        ("{ __schema { types { fields { args { name } } } } }", 3),
        ("{ __schema { types { interfaces { fields { args { name } } } } } }", 4),
        ('{ __type(name: "Query") { fields { args { name } } } }', 2),
        ('{ __type(name: "Query") { fields { args { type { fields { name } } } } } }', 3),
        ('{ __type(name: "Query") { fields { args { type { fields { args { name } } } } } } }', 4),
        (
            '{ __type(name: "Query") { interfaces { fields { type { possibleTypes { name } } } } } }',  # noqa: E501
            3,
        ),
        (
            '{ __type(name: "Node") { possibleTypes { fields { args { type { enumValues {'
            " name } } } } } } }",
            4,
        ),
    ],
)
def test_introspection_nesting_is_bounded_under_schema_and_type(query: str, lists: int) -> None:
    measured = measure(query)
    assert (measured.lists, measured.cost) == (lists, 0)
    expected = [] if lists <= 3 else [f"introspection nests {lists} lists; the maximum is 3"]
    assert violations(measured) == expected


def test_introspection_aliases_still_count() -> None:
    assert measure("{ a: __schema { b: types { c: name } } }").aliases == 3
    assert measure("{ a: __typename }").aliases == 1


def test_a_fragment_is_measured_as_introspection_only_where_it_is_used_so() -> None:
    fragment = "fragment F on Query { programModels { code } }"
    assert measure(f"{{ ...F }} {fragment}").cost == 8
    both = measure(f"{{ __schema {{ ...F }} ...F }} {fragment}")
    assert (both.cost, both.lists) == (8, 1)
    reversed_ = measure(f"{{ ...F __schema {{ ...F }} }} {fragment}")
    assert (reversed_.cost, reversed_.lists) == (8, 1)


# --- fragments ---------------------------------------------------------------------------


def test_fragments_count_where_they_are_used() -> None:
    fragment = "fragment F on Query { a: programModels { code } }"
    twice, walker = walk(f"{{ ...F x: notice ...F }} {fragment}")
    assert twice == Measure(2, 3, 17, 0)
    assert walker.visits == 5  # ...F, notice, ...F; the fragment's field and its leaf once
    inline = measure("{ ... on Query { programModels { code } } ... { notice } }")
    assert inline == Measure(2, 0, 9, 0)
    # Unknown and cyclic fragments are validation errors already: measured as nothing.
    assert measure("{ ...Missing notice }") == Measure(1, 0, 1, 0)
    cyclic = "{ ...A } fragment A on Query { notice ...B } fragment B on Query { ...A }"
    assert measure(cyclic) == Measure(1, 0, 1, 0)


def test_an_inline_fragment_reads_its_fields_on_its_type() -> None:
    # On an interface's implementation, a scanned field is still charged its scan.
    query = '{ node(id: "x") { ... on Agency { officials { __typename } } } }'
    assert measure(query).cost == 1 + 5
    # Typed under an unknown type, fields are unknown but still charged.
    assert measure("{ ... on Nope { notice } }").cost == 1


# --- directives --------------------------------------------------------------------------


def _messages(query: str) -> list[str]:
    return [error.message for error in directive_errors(SCHEMA, parse(query))]


KNOWN = ", ".join(f"@{d.name}" for d in sorted(SCHEMA.directives, key=lambda d: d.name))


def test_unknown_directives_are_named_once_each_in_order() -> None:
    assert _messages("{ notice @foo @bar x: notice @foo }") == [
        f"unknown directives (@foo, @bar); this schema declares {KNOWN}"
    ]


@pytest.mark.parametrize(
    "query",
    [
        "query Q @foo { notice }",
        "query Q($a: Int @foo) { notice }",
        "{ ...F } fragment F on Query @foo { notice }",
        "{ ...F @foo } fragment F on Query { notice }",
        "{ ... @foo { notice } }",
        "{ programModels { code @foo } }",
    ],
)
def test_directives_are_found_at_every_location(query: str) -> None:
    assert _messages(query) == [f"unknown directives (@foo); this schema declares {KNOWN}"]


def test_directives_per_location_at_exactly_the_maximum() -> None:
    assert MAX_DIRECTIVES_PER_LOCATION == 2
    assert _messages("{ notice @include(if: true) @skip(if: false) }") == []
    three = "{ notice @include(if: true) @skip(if: false) @include(if: true) }"
    assert _messages(three) == ["3 directives at one location; the maximum is 2"]


def test_directives_in_the_document_at_exactly_the_maximum() -> None:
    assert MAX_DIRECTIVES == 30
    fields = [f"a{i}: notice @include(if: true)" for i in range(31)]
    assert _messages("{ " + " ".join(fields[:30]) + " }") == []
    assert _messages("{ " + " ".join(fields) + " }") == ["31 directives found; the maximum is 30"]
    deep = "{ " + "programModels { " * 3 + " ".join(fields) + " }" * 4
    assert _messages(deep) == ["31 directives found; the maximum is 30"]


# --- the extension -----------------------------------------------------------------------


async def test_the_extension_refuses_before_anything_runs_and_reads_the_operation() -> None:
    sixteen = " ".join(f"a{i}: __typename" for i in range(16))
    refused = await schema.execute(f"{{ {sixteen} }}")
    assert [e.message for e in refused.errors or []] == ["16 aliases found; the maximum is 15"]
    assert refused.data is None
    fifteen = " ".join(f"a{i}: __typename" for i in range(15))
    passed = await schema.execute(f"{{ {fifteen} }}")
    assert passed.errors is None
    assert passed.data == {f"a{i}": "Query" for i in range(15)}
    two = f"query A {{ {sixteen} }} query B {{ __typename }}"
    assert (await schema.execute(two, operation_name="B")).errors is None
    chosen = await schema.execute(two, operation_name="A")
    assert [e.message for e in chosen.errors or []] == ["16 aliases found; the maximum is 15"]


async def test_the_extension_charges_the_variables_and_defers_to_validation() -> None:
    nested = "query ($n: Int) { jurisdictions(first: $n) { edges { node { agencies(first: $n) {"
    nested += " edges { node { agreements(first: $n) { totalCount } } } } } } } }"
    expensive = await schema.execute(nested, variable_values={"n": 100})
    assert next(e.message for e in expensive.errors or []).startswith("query too expensive")
    sixteen = " ".join(f"a{i}: __typename" for i in range(16))
    cheap = nested.replace("totalCount", f"totalCount {sixteen}")
    result = await schema.execute(cheap, variable_values={"n": 1})
    assert [e.message for e in result.errors or []] == ["16 aliases found; the maximum is 15"]
    # A document validation refuses is not measured: its errors are validation's only.
    invalid = await schema.execute(f"{{ {sixteen} nope }}")
    messages = [e.message for e in invalid.errors or []]
    assert messages
    assert not any("aliases" in m for m in messages)


def test_an_inline_fragment_charges_its_arguments_and_lists_on_its_type() -> None:
    assert measure("{ ... on Query { agreements(first: 3) { __typename } } }").cost == 3
    # On an interface, the implementation's fields and their arguments.
    agency = '{ node(id: "x") { ... on Agency { agreements(first: 3) { __typename } } } }'
    assert measure(agency).cost == 1 + 3
    typed = measure("{ __schema { ... on __Schema { types { name } } } }")
    assert (typed.cost, typed.lists) == (0, 1)


def test_an_unknown_field_with_arguments_is_charged_as_one() -> None:
    assert measure("{ nope(first: 5) { __typename } }").cost == 1
    assert measure("{ nope(first: 5) }").cost == 1


def test_the_meta_fields_are_known_by_name() -> None:
    from graphql.type.introspection import (
        SchemaMetaFieldDef,
        TypeMetaFieldDef,
        TypeNameMetaFieldDef,
    )

    from open287g.graphql.limits import _field_definition

    assert _field_definition(SCHEMA, None, "__typename") is TypeNameMetaFieldDef
    assert _field_definition(SCHEMA, None, "__schema") is SchemaMetaFieldDef
    assert _field_definition(SCHEMA, None, "__type") is TypeMetaFieldDef
    assert _field_definition(SCHEMA, SCHEMA.query_type, "notice") is not None
    assert _field_definition(SCHEMA, SCHEMA.query_type, "nope") is None
    assert _field_definition(SCHEMA, None, "notice") is None
