"""Hostile GraphQL requests: refused before any SQL, in time linear in the document, with
a 4xx or a GraphQL error that says why (never a 500, never an unmasked error), and without
stalling the event loop or growing memory without bound."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from typing import Any

import httpx
import pytest
from graphql import (
    FragmentDefinitionNode,
    OperationDefinitionNode,
    get_introspection_query,
    parse,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.schema.schema import validate_document

from open287g.app import create_app
from open287g.graphql import documents
from open287g.graphql.documents import (
    AST_BYTES_PER_CHAR,
    CACHE_BYTES,
    MAX_DOCUMENT_BYTES,
    DocumentCache,
)
from open287g.graphql.limits import MAX_ALIASES, Walker
from open287g.graphql.schema import build_schema, schema
from open287g.graphql.variables import coerce
from tests.support.database import StatementCounter
from tests.support.graphql_support import database_url, execute, needs_data

__all__ = ["database_url"]
pytestmark = needs_data


def fan_out(levels: int) -> str:
    """Each fragment spreads the previous one twice: 2^levels uses in ~40 bytes a level."""
    parts = ["fragment F0 on Query { programModels { code } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    return " ".join([*parts, f"{{ ...F{levels - 1} }}"])


def test_fragment_fan_out_is_measured_in_linear_time() -> None:
    document = parse(fan_out(20))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operation = document.definitions[-1]
    assert isinstance(operation, OperationDefinitionNode)
    variables = coerce(schema._schema, operation, {})
    assert variables is not None
    walker = Walker(schema._schema, fragments, variables)
    started = time.perf_counter()
    measured = walker.selection(operation.selection_set, schema._schema.query_type)
    elapsed = time.perf_counter() - started
    # Each selection is looked at once (memoised fragments): 2 per level plus the leaves,
    # where the unmemoised walk looked at 2^20.
    assert walker.visits <= 3 * 20 + 5, walker.visits
    assert measured.cost >= 2**19 * 5, "every use of a fragment is charged"
    assert elapsed < 0.05


async def test_fragment_fan_out_is_refused_quickly(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    started = time.perf_counter()
    data, errors = await execute(engine, fan_out(20))
    assert time.perf_counter() - started < 1.0  # was 6–7 s
    assert data is None
    assert any("too expensive" in e["message"] for e in errors), errors
    assert count_statements.count == 0


async def test_aliased_statistics_are_refused_before_any_sql(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    fields = " ".join(
        f"s{i}: detainerStats(groupBy: [STATE]) {{ issued }}" for i in range(MAX_ALIASES)
    )
    data, errors = await execute(engine, f"{{ {fields} }}")
    assert data is None
    assert [e["message"] for e in errors if "too expensive" in e["message"]], errors
    assert count_statements.count == 0
    # One is fine, and runs.
    data, errors = await execute(engine, "{ detainerStats(groupBy: [STATE]) { issued } }")
    assert errors == []
    assert data["detainerStats"]


NESTED = (
    "jurisdictions(first: $f) { edges { node { agencies(first: $f) { edges { node {"
    " agreements(first: $f) { totalCount } } } } } } }"
)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (f"query ($f: Int) {{ {NESTED} }}", {"f": 100.0}),
        (f"query ($f: Int = 100) {{ {NESTED} }}", {}),
        (f"query ($f: Int = 100) {{ {NESTED} }}", {"f": None}),
    ],
    ids=["float-variable", "variable-default", "null-given-default-ignored"],
)
async def test_first_is_charged_as_the_executor_reads_it(
    engine: AsyncEngine,
    count_statements: StatementCounter,
    query: str,
    variables: dict[str, Any],
) -> None:
    data, errors = await execute(engine, query, variables)
    if variables.get("f", 0) is None:
        # An explicit null overrides the default: pages of 20, within the limits.
        assert errors == []
        assert data is not None
        return
    assert data is None
    assert any("too expensive" in e["message"] for e in errors), errors
    assert count_statements.count == 0


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


NUL_STATE = "T\x00X"


def _id(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (f'{{ node(id: "{_id("Agreement:9223372036854775808")}") {{ id }} }}', "not an id"),
        (f'{{ node(id: "{_id("Agreement:²")}") {{ id }} }}', "not an id"),
        (f'{{ node(id: "{_id("Agency:١٠")}") {{ id }} }}', "not an id"),
        (
            f'{{ agreements(after: "{_cursor("agreements:ID:ASC", 1, 2**70)}") {{ totalCount }} }}',
            "cursor is not one",
        ),
        (
            f'{{ agreements(after: "{_cursor("agreements:STATE:ASC", NUL_STATE, 1)}",'
            " orderBy: {field: STATE}) { totalCount } }",
            "cursor is not one",
        ),
        (
            f'{{ agreements(after: "{_cursor("agreements:ID:ASC", "x", 1)}") {{ totalCount }} }}',
            "cursor is not one",
        ),
        (
            f'{{ agencies(first: 1) {{ edges {{ node {{ agreements(after: "'
            f'{_cursor("nested:agreements", 1, 2**64)}") {{ totalCount }} }} }} }} }}',
            "cursor is not one",
        ),
        (
            '{ agreements(filter: {agencyNameContains: "' + "x" * 10_000 + '"}) { totalCount } }',
            "at most 200 characters",
        ),
    ],
    ids=[
        "id-int64-overflow",
        "id-unicode-digit",
        "id-arabic-digits",
        "cursor-huge-id",
        "cursor-nul",
        "cursor-wrong-type",
        "nested-cursor-huge-id",
        "long-text-filter",
    ],
)
async def test_hostile_values_are_client_errors(
    engine: AsyncEngine, query: str, message: str
) -> None:
    app = create_app(engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        answer = await http.post("/graphql", json={"query": query})
    assert answer.status_code == 200, answer.text
    messages = [e["message"] for e in answer.json()["errors"]]
    assert any(message in m for m in messages), messages


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 2_000 + b"]" * 2_000, "Unable to parse request body as JSON"),
        (b'"hello"', "must be a JSON object"),
        (b"null", "must be a JSON object"),
        (b"42", "must be a JSON object"),
    ],
    ids=["deeply-nested", "string", "null", "number"],
)
async def test_malformed_bodies_are_400(engine: AsyncEngine, body: bytes, message: str) -> None:
    app = create_app(engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        answer = await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 400, answer.text
    assert message in answer.text


async def test_oversized_documents_are_refused_before_parsing(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []

    def spy(query: str, **options: Any) -> Any:
        parsed.append(query)
        return parse(query, **options)

    monkeypatch.setattr(documents, "parse", spy)
    query = "{ programModels { code } }" + " " * MAX_DOCUMENT_BYTES
    data, errors = await execute(engine, query)
    assert data is None
    assert [e["message"] for e in errors] == [
        f"the query document is {len(query):,} bytes; the maximum is {MAX_DOCUMENT_BYTES:,} bytes"
    ]
    assert parsed == []


def test_the_memory_estimate_bounds_a_dense_document() -> None:
    """AST_BYTES_PER_CHAR is an upper bound of what a parsed document really holds."""
    import tracemalloc

    dense = "{ " + " ".join(f"a{i}: programModels {{ code name }}" for i in range(280)) + " }"
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    document = parse(dense, max_tokens=documents.MAX_TOKENS)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # The whole document was parsed (what `held` measures): its 280 aliased fields.
    [operation] = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert len(operation.selection_set.selections) == 280
    assert held <= AST_BYTES_PER_CHAR * len(dense), (held, len(dense))


async def test_the_document_cache_is_bounded_by_bytes(engine: AsyncEngine) -> None:
    cache = DocumentCache()
    isolated = build_schema(documents=cache)
    padding = "x" * (MAX_DOCUMENT_BYTES - 100)
    for i in range(80):  # 80 unique 16 KB documents: ~160 MB if each were kept
        await execute(engine, f"{{ programModels {{ code }} }} # {i} {padding}", schema=isolated)
    assert cache.total <= CACHE_BYTES
    assert 0 < len(cache) < 80
    per_entry = AST_BYTES_PER_CHAR * MAX_DOCUMENT_BYTES
    assert len(cache) <= CACHE_BYTES // (per_entry - 100 * AST_BYTES_PER_CHAR)


async def test_long_documents_are_validated_off_the_event_loop(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation is quadratic in repeated fields (180 × agreements: 0.2–1 s of CPU): it
    runs in the documents' thread pool, and the event loop keeps running meanwhile (on the
    event loop, not one tick could happen until validation ended)."""
    spans: list[tuple[str, float, float]] = []
    real_validate = validate_document

    def validate(*args: Any) -> Any:
        started = time.perf_counter()
        try:
            return real_validate(*args)
        finally:
            spans.append((threading.current_thread().name, started, time.perf_counter()))

    monkeypatch.setattr(documents, "validate_document", validate)
    query = "{ " + " ".join("agreements { edges { node { id } } }" for _ in range(180)) + " }"
    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            await asyncio.sleep(0.001)
            ticks.append(time.perf_counter())

    ticking = asyncio.create_task(ticker())
    try:
        await execute(engine, query, schema=build_schema())
    finally:
        done.set()
        await ticking
    [(thread, started, ended)] = spans
    assert thread.startswith("graphql-documents")
    during = [t for t in ticks if started < t < ended]
    assert len(during) >= 3, f"{len(during)} ticks in {1000 * (ended - started):.0f} ms"


async def test_introspection_is_free_but_its_nesting_is_bounded(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    """GraphiQL's introspection query (three nested lists) passes; each further list level
    multiplies the answer by up to the number of types or fields, so a fourth is refused."""
    standard = get_introspection_query(descriptions=True, input_value_deprecation=True)
    data, errors = await execute(engine, standard)
    assert errors == []
    assert data["__schema"]["types"]
    # graphql-core's own rule (nested `fields`/`interfaces`/…) lets this one through.
    deep = "{ __schema { types { interfaces { fields { args { name } } } } } }"
    data, errors = await execute(engine, deep)
    assert data is None
    assert [e["message"] for e in errors] == ["introspection nests 4 lists; the maximum is 3"]
    assert count_statements.count == 0
