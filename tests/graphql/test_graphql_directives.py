"""Directive limits (`graphql/limits.py`): at most MAX_DIRECTIVES_PER_LOCATION at one place,
MAX_DIRECTIVES in a document, none the schema does not declare; each refused with one error
per kind, before validation and before any SQL. Legitimate uses still run."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import parse
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.schema.schema import validate_document

from open287g.graphql import documents
from open287g.graphql.limits import MAX_DIRECTIVES, MAX_DIRECTIVES_PER_LOCATION, directive_errors
from open287g.graphql.schema import build_schema, schema
from tests.support.database import StatementCounter
from tests.support.graphql_support import execute


def _messages(query: str) -> list[str]:
    return [error.message for error in directive_errors(schema._schema, parse(query))]


async def test_unknown_directives_are_refused_before_validation(
    engine: AsyncEngine, count_statements: StatementCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    validated: list[object] = []
    real = validate_document

    def counting(*args: Any) -> Any:
        validated.append(args)
        return real(*args)

    monkeypatch.setattr(documents, "validate_document", counting)
    query = "{ programModels @a @b { code @a } }"
    data, errors = await execute(engine, query, schema=build_schema())
    assert data is None
    assert [e["message"] for e in errors] == [
        "unknown directives (@a, @b); this schema declares "
        "@deprecated, @include, @oneOf, @skip, @specifiedBy"
    ]
    assert validated == []
    assert count_statements.count == 0


async def test_many_unknown_directives_cost_one_error_and_little_time(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    query = "{ programModels { code " + " ".join(["@x"] * 900) + " } }"
    fresh = build_schema()  # an empty document cache: the walk is timed, not a cache hit
    started = time.perf_counter()
    data, errors = await execute(engine, query, schema=fresh)
    assert time.perf_counter() - started < 0.5
    assert data is None
    assert len(errors) == 3, errors  # unknown, crowded, too many: one error each
    assert count_statements.count == 0


@pytest.mark.parametrize(
    "query",
    [
        "{ programModels { code @skip(if: false) @skip(if: false) @skip(if: false) } }",
        "{ ... on Query @include(if: true) @include(if: true) @skip(if: false)"
        " { datasets { id } } }",
        "query Q @skip(if: false) @skip(if: false) @skip(if: false) { datasets { id } }",
        "query ($v: Int @a @b @c) { datasets { id } }",
        "{ ...F @skip(if: false) @skip(if: false) @skip(if: false) }"
        " fragment F on Query { datasets { id } }",
    ],
    ids=["field", "inline-fragment", "operation", "variable", "spread"],
)
def test_a_crowded_location_is_refused(query: str) -> None:
    assert any("directives at one location" in message for message in _messages(query))


def test_too_many_directives_in_a_document_are_refused() -> None:
    fields = " ".join(f"f{i}: datasets @include(if: true) {{ id }}" for i in range(MAX_DIRECTIVES))
    assert _messages(f"{{ {fields} }}") == []
    one_more = f"{{ {fields} extra: datasets @skip(if: false) {{ id }} }}"
    assert _messages(one_more) == [
        f"{MAX_DIRECTIVES + 1} directives found; the maximum is {MAX_DIRECTIVES}"
    ]


async def test_skip_and_include_still_work(engine: AsyncEngine) -> None:
    query = (
        "query ($on: Boolean!) { programModels { code @include(if: $on) @skip(if: false) "
        "name @skip(if: $on) } }"
    )
    data, errors = await execute(engine, query, {"on": True}, schema=build_schema())
    assert errors == []
    assert all(set(model) == {"code"} for model in data["programModels"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=5), min_size=1, max_size=12))
def test_limits_hold_for_any_spread_of_directives(per_field: list[int]) -> None:
    fields = " ".join(
        f"f{i}: datasets " + " ".join(["@skip(if: false)"] * n) + " { id }"
        for i, n in enumerate(per_field)
    )
    messages = _messages(f"{{ {fields} }}")
    crowded = max(per_field) > MAX_DIRECTIVES_PER_LOCATION
    too_many = sum(per_field) > MAX_DIRECTIVES
    assert any("at one location" in m for m in messages) == crowded
    assert any("directives found" in m for m in messages) == too_many
    assert len(messages) == crowded + too_many
