"""Every GraphQL execution path answers alike: variables nested in input objects reach the
compiled path (POST and GET), errors are masked the same way on every path (with the cause
in the server log), an unreachable database is a 503 with Retry-After, and the settings
given to `create_app` are the ones the resolvers use."""

from __future__ import annotations

import base64
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.errors import RETRY_AFTER_SECONDS
from open287g.db.queries import detainers
from open287g.db.queries.detainers import DetainerDimension, DetainerFilter
from open287g.graphql.errors import UNAVAILABLE, UNEXPECTED
from open287g.graphql.plan import CompiledOperations
from open287g.graphql.schema import build_schema
from tests.support.database import StatementCounter
from tests.support.graphql_support import database_url, execute, needs_data

__all__ = ["database_url"]
pytestmark = needs_data
RESOLVERS_ONLY = build_schema(compiled=False)


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What the compiled path answered, per execution (None: it stepped aside)."""
    answers: list[object] = []
    original = CompiledOperations.plan

    def spy(self: CompiledOperations) -> Any:
        answer = original(self)
        answers.append(answer)
        return answer

    monkeypatch.setattr(CompiledOperations, "plan", spy)
    return answers


async def count(engine: AsyncEngine, where: str) -> int:
    async with engine.connect() as conn:
        sql = f"SELECT count(*) FROM agreements WHERE {where}"
        return int((await conn.execute(text(sql))).scalar_one())


NESTED_VARIABLES = [
    (
        "query ($s: String) { agreements(first: 1, filter: {state: $s}) { totalCount } }",
        {"s": "NY"},
        "state_code = 'NY'",
    ),
    (
        "query ($s: AgreementStatus) { agreements(first: 1, filter: {status: $s}) { totalCount } }",
        {"s": "ENDED"},
        "status = 'ENDED'",
    ),
    (
        'query ($from: Date, $s: String = "fl") { agreements(first: 1,'
        " filter: {state: $s, signedFrom: $from}) { totalCount } }",
        {"from": "2025-06-01"},
        "state_code = 'FL' AND signed_on >= '2025-06-01'",
    ),
]


@pytest.mark.parametrize(("query", "variables", "where"), NESTED_VARIABLES)
async def test_variables_inside_input_objects_reach_the_compiled_path(
    engine: AsyncEngine, compiled: list[object], query: str, variables: dict[str, Any], where: str
) -> None:
    expected = await count(engine, where)
    assert 0 < expected < await count(engine, "true")
    data, errors = await execute(engine, query, variables)
    assert errors == []
    assert compiled, "the compiled path was asked"
    assert compiled[0] is not None, "the compiled path answered"
    assert data["agreements"]["totalCount"] == expected
    assert await execute(engine, query, variables, schema=RESOLVERS_ONLY) == (data, errors)


async def test_a_variable_order_direction_is_honoured(
    engine: AsyncEngine, compiled: list[object]
) -> None:
    query = (
        "query ($d: OrderDirection!) { agreements(first: 3, orderBy: {field: ID, direction: $d})"
        " { edges { node { id } } } }"
    )
    data, errors = await execute(engine, query, {"d": "DESC"})
    assert errors == []
    assert compiled[0] is not None
    ids = [
        int(base64.urlsafe_b64decode(e["node"]["id"] + "==").decode().split(":")[1])
        for e in data["agreements"]["edges"]
    ]
    async with engine.connect() as conn:
        top = (await conn.execute(text("SELECT id FROM agreements ORDER BY id DESC LIMIT 3"))).all()
    assert ids == [row[0] for row in top]


async def test_nested_variables_over_get(engine: AsyncEngine) -> None:
    query, _variables, where = NESTED_VARIABLES[0]
    app = create_app(engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        got = await http.get(
            "/graphql",
            params={"query": query, "variables": '{"s": "NY"}'},
            headers={"Accept": "application/json"},
        )
    assert got.status_code == 200, got.text
    assert got.json()["data"]["agreements"]["totalCount"] == await count(engine, where)


COMPILED_PAGE = "{ agreements(first: 2) { edges { node { id model { code } } } } }"


async def test_database_errors_are_masked_alike_on_every_path(
    engine: AsyncEngine, compiled: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("ALTER TABLE program_models RENAME TO program_models_gone"))
        await conn.commit()
    try:
        with caplog.at_level(logging.ERROR):
            answers = [
                await execute(engine, COMPILED_PAGE),
                await execute(engine, COMPILED_PAGE, schema=RESOLVERS_ONLY),
            ]
    finally:
        async with engine.connect() as conn:
            await conn.execute(text("ALTER TABLE program_models_gone RENAME TO program_models"))
            await conn.commit()
    assert compiled[0] is not None, "the compiled path answered (with an error)"
    # One statement fails as a whole (at the root field); the resolvers fail at the level
    # that read the table. Both mask it the same way, and null the same (non-null) root.
    for data, errors in answers:
        assert data is None
        assert [e["message"] for e in errors] == [UNEXPECTED]
        assert errors[0]["path"][0] == "agreements"
    assert answers[0][1][0]["path"] == ["agreements"]
    logged = "\n".join(r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in caplog.records)
    assert 'relation "program_models" does not exist' in logged, "the cause is logged"


@pytest.mark.parametrize(
    "query",
    [
        '{ agreements(first: 5, after: "' + "x" * 5000 + '") { totalCount } }',  # resolvers
        '{ node(id: "QWdyZWVtZW50OsKy") { id } }',  # a bad id
        "{ agreements(first: 2) { edges { node { nope } } } }",  # fails validation
        "{ " + " ".join(f"nope{i}" for i in range(150)) + " }",  # ~100 validation errors
    ],
)
async def test_a_client_mistake_is_one_short_info_line_not_an_error_with_a_traceback(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    """A client sending bad input in a loop must not fill the error log with tracebacks
    (each was an ERROR record with the whole stack, strawberry's default), nor with a line
    per error (a document of 150 unknown fields: ~100 lines for one request)."""
    for schema in (None, RESOLVERS_ONLY):  # the compiled path (and its plan cache) too
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            if schema is None:
                _, errors = await execute(engine, query)
            else:
                _, errors = await execute(engine, query, schema=schema)
        assert errors, "the client is told"
        records = [r for r in caplog.records if r.name.startswith(("strawberry", "open287g"))]
        assert [r.levelno for r in records] == [logging.INFO], records
        assert not any(r.exc_info for r in records)
        assert all(len(r.getMessage()) <= 320 for r in records)


async def test_an_unreachable_database_is_a_503_with_retry_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Nothing listens on port 9 (discard) of loopback: connecting fails at once.
    dead = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:9/none")
    app = create_app(engine=dead)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            for query in (COMPILED_PAGE, "{ programModels { code } }"):
                with caplog.at_level(logging.ERROR):
                    answer = await http.post("/graphql", json={"query": query})
                assert answer.status_code == 503, answer.text
                assert answer.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
                errors = answer.json()["errors"]
                assert [e["message"] for e in errors] == [UNAVAILABLE]
                assert errors[0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
                assert "127.0.0.1" not in answer.text
                assert "onnect" not in answer.text
    finally:
        await dead.dispose()
    assert any(r.exc_info for r in caplog.records), "the driver's error is logged"


async def test_create_app_settings_reach_graphql(engine: AsyncEngine) -> None:
    """min_cell governs breakdowns by a personal attribute (citizenship)."""
    dimension = DetainerDimension.CITIZENSHIP
    query = (
        f"{{ detainerStats(groupBy: [{dimension.value}]) {{ key {{ {dimension.value.lower()} }}"
        " issued declined bookedIntoDetention pending suppressed } }"
    )
    answers = []
    for min_cell in (5, 5_000):
        app = create_app(Settings(min_cell=min_cell), engine=engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            answer = await http.post("/graphql", json={"query": query})
        assert answer.status_code == 200, answer.text
        rows = answer.json()["data"]["detainerStats"]
        async with engine.connect() as conn:
            expected = await detainers.detainer_stats(
                conn,
                [dimension],
                DetainerFilter(),
                min_cell=min_cell,
                min_margin=Settings().min_margin,
            )
        assert [r["issued"] for r in rows] == [row.issued for row in expected]
        assert [r["suppressed"] for r in rows] == [row.suppressed for row in expected]
        answers.append(rows)
    assert answers[0] != answers[1], "min_cell changes what is published"


async def test_a_failed_field_does_not_cancel_a_load_another_field_shares(
    engine: AsyncEngine,
) -> None:
    """`a` fails (page size) and graphql-core cancels its sibling `policy`, which awaits the
    same DataLoader Future as `b.policy`: that Future must survive (found by the
    differential test: the request raised CancelledError, a 500 over HTTP)."""
    data, errors = await execute(
        engine,
        '{ jurisdictions(filter: {kind: STATE, state: "FL"}) { edges { node {'
        " agencies(first: 1) { edges { node { id } } } } } } }",
    )
    assert errors == []
    agency = data["jurisdictions"]["edges"][0]["node"]["agencies"]["edges"][0]["node"]["id"]
    query = (
        f'{{ a: node(id: "{agency}") {{ ... on Agency {{ policy {{ status }}'
        " agreements(first: 101) { totalCount } } }"
        f' b: node(id: "{agency}") {{ ... on Agency {{ policy {{ status }} }} }} }}'
    )
    app = create_app(engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        for _ in range(12):
            answer = await http.post("/graphql", json={"query": query})
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["data"]["a"] is None
            assert "b" in body["data"]
            assert [e["path"] for e in body["errors"]] == [["a", "agreements"]]


async def test_over_http_a_compiled_operation_is_one_statement(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    """Through the real view (response cache off): a compiled operation, new or repeated,
    is one SQL statement, which also gives the answer's X-Data-Version; one that runs on
    the resolvers first reads the version they must match, and still carries it."""
    app = create_app(Settings(OPEN287G_RESPONSE_CACHE=False), engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        versions = []
        for alias in ("a", "b", "b"):
            count_statements.statements.clear()
            query = "{ ALIAS: agreements(first: 100) { edges { node { agency { name } } } } }"
            query = query.replace("ALIAS", alias)
            answer = await http.post("/graphql", json={"query": query})
            assert answer.status_code == 200
            assert len(answer.json()["data"][alias]["edges"]) == 100
            assert count_statements.count == 1, count_statements.statements
            versions.append(answer.headers["x-data-version"])
        count_statements.statements.clear()
        fallback = "{ dataQuality { loadIssues { rows } } }"
        answer = await http.post("/graphql", json={"query": fallback})
        assert answer.status_code == 200
        assert count_statements.count == 3  # the version, the report, the version again
        assert "coalesce(max(seq)" in count_statements.statements[0]
        versions.append(answer.headers["x-data-version"])
    assert len(set(versions)) == 1
