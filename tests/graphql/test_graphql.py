"""The GraphQL API on the 54 real ICE snapshots and a synthetic detainer release: paging,
filters, point-in-time answers, statement counts, abuse limits, errors, HTTP, the SDL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries.pagination import encode_cursor
from open287g.graphql.context import Context
from open287g.graphql.errors import MaskedSchema
from open287g.graphql.plan import CompiledOperations
from open287g.graphql.schema import build_schema, schema
from open287g.loaders.detainers.load import load_detainer_source
from tests.support.database import StatementCounter
from tests.support.environment import PROJECT_ROOT
from tests.support.fixtures import ICE_DIR, ICE_FILES, make_detainers, raw_identities
from tests.support.snapshots import database_url

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")
SDL_FILE = PROJECT_ROOT / "open287g" / "graphql" / "schema.graphql"
__all__ = ["database_url"]  # this module's database: a copy of the ICE template


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A detainer release over the 54 snapshots the module's database holds already."""
    release = make_detainers(tmp_path_factory.mktemp("d") / "r.csv", rows=3000, fmt="csv")
    await load_detainer_source(engine, str(release), Settings(), is_synthetic=True)


async def run(
    engine: AsyncEngine, query: str, *, on: MaskedSchema = schema, **variables: Any
) -> dict[str, Any]:
    result = await on.execute(
        query, variable_values=variables, context_value=Context(engine, Settings())
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    # The compiled path embeds PostgreSQL's JSON as orjson fragments: compare as JSON.
    data: dict[str, Any] = orjson.loads(orjson.dumps(result.data))
    return data


async def errors_of(engine: AsyncEngine, query: str, **variables: Any) -> list[str]:
    result = await schema.execute(
        query, variable_values=variables, context_value=Context(engine, Settings())
    )
    assert result.errors, "expected an error"
    return [error.message for error in result.errors]


async def sql_count(engine: AsyncEngine, where: str = "true", **params: Any) -> int:
    async with engine.connect() as conn:
        query = f"SELECT count(*) FROM agreements g WHERE {where}"
        return int((await conn.execute(text(query), params)).scalar_one())


PAGE = """
query Page($after: String, $filter: AgreementFilter, $asOf: Date, $first: Int) {
  agreements(first: $first, after: $after, filter: $filter, asOf: $asOf) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id status agency { name state } model { code } } }
  }
}
"""


async def walk(engine: AsyncEngine, first: int = 37, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = (await run(engine, PAGE, first=first, after=after, **variables))["agreements"]
        nodes += [edge["node"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return nodes
        after = data["pageInfo"]["endCursor"]


@pytest.mark.usefixtures("loaded")
async def test_walking_every_page_returns_each_agreement_once(engine: AsyncEngine) -> None:
    nodes = await walk(engine)
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids)) == await sql_count(engine)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("filter_", "where", "params"),
    [
        ({"state": "texas"}, "state_code = :s", {"s": "TX"}),
        (
            {"state": "FL", "model": "WARRANT_SERVICE_OFFICER"},
            "state_code = 'FL' AND model_code = 'WARRANT_SERVICE_OFFICER'",
            {},
        ),
        ({"status": "ENDED"}, "status = 'ENDED'", {}),
        (
            {"signedFrom": "2025-06-01", "signedTo": "2025-06-30"},
            "signed_on BETWEEN '2025-06-01' AND '2025-06-30'",
            {},
        ),
        (
            {"agencyNameContains": "sheriff"},
            "agency_id IN (SELECT id FROM agencies WHERE name ILIKE '%sheriff%')",
            {},
        ),
    ],
)
async def test_filters_agree_with_sql(
    engine: AsyncEngine, filter_: dict[str, str], where: str, params: dict[str, str]
) -> None:
    expected = await sql_count(engine, where, **params)
    assert expected > 0
    data = await run(engine, PAGE, first=1, filter=filter_)
    assert data["agreements"]["totalCount"] == expected
    assert len(await walk(engine, first=100, filter=filter_)) == expected


@pytest.mark.usefixtures("loaded")
async def test_as_of_answers_with_that_days_lists(engine: AsyncEngine) -> None:
    participating = ICE_DIR / "20250605T151847_participating_participatingAgencies06042025am.xlsx"
    pending = ICE_DIR / "20250604T154117_pending_pendingAgencies06032025pm.xlsx"
    on_list = raw_identities(participating)
    only_pending = raw_identities(pending) - on_list
    nodes = await walk(engine, first=100, asOf="2025-06-05")
    statuses = [node["status"] for node in nodes]
    assert statuses.count("ACTIVE") == len(on_list)
    assert statuses.count("PENDING") == len(only_pending)
    assert len(nodes) == len(on_list | only_pending)


@pytest.mark.usefixtures("loaded")
async def test_agreement_changes_match_the_lists(engine: AsyncEngine) -> None:
    before = raw_identities(ICE_FILES[1]) | raw_identities(ICE_FILES[0])  # 05/15–16 lists
    query = """query ($after: String) { agreementChanges(from: "2025-05-16", to: "2025-07-11",
      first: 100, after: $after) { pageInfo { hasNextPage endCursor }
      edges { node { kind agreement { id } } } } }"""
    kinds: list[str] = []
    after = None
    while True:
        data = (await run(engine, query, after=after))["agreementChanges"]
        kinds += [edge["node"]["kind"] for edge in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    latest = raw_identities(ICE_FILES[-1]) | raw_identities(ICE_FILES[-2])
    # A rename is one RENAMED change, not an end plus an addition (tests/db/test_lineage.py).
    assert kinds.count("RENAMED") > 0
    # SPEC's four kinds only: a withdrawn application left the lists (ENDED); its status
    # says WITHDRAWN.
    assert set(kinds) <= {"ADDED", "ENDED", "CHANGED", "RENAMED"}
    left = ("ENDED", "RENAMED")
    assert sum(kinds.count(kind) for kind in left) == len(before - latest)
    assert kinds.count("ADDED") < len(latest - before)
    assert kinds.count("CHANGED") > 0


async def test_agreement_changes_carry_the_spec_date(engine: AsyncEngine) -> None:
    """SPEC: `AgreementChange` entries carry `date` (and the list that showed the change),
    through the app's /graphql; `changedOn`, the first name, is deprecated and the same."""
    query = """{ agreementChanges(from: "2025-05-16", to: "2025-07-11", first: 100) {
      edges { node { kind date changedOn list { snapshotDate } } } } }"""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(engine=engine)), base_url="http://t"
    ) as http:
        answer = (await http.post("/graphql", json={"query": query})).json()
    assert "errors" not in answer, answer
    nodes = [edge["node"] for edge in answer["data"]["agreementChanges"]["edges"]]
    assert nodes
    for node in nodes:
        assert node["date"] == node["changedOn"] == node["list"]["snapshotDate"]
        assert "2025-05-16" < node["date"] <= "2025-07-11"


NESTED = """
query ($first: Int) { agreements(first: $first) { edges { node { id status signedOn moaUrl
  policyStatus model { code name } agency { id name type policyStatus officials { name }
  jurisdiction { id name kind policyStatus parent { name } } agreements(first: 4) {
  totalCount edges { node { id } } } } } } } }
"""


@pytest.mark.usefixtures("loaded")
async def test_statement_count_does_not_grow_with_page_size(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    counts = []
    for first in (10, 100):
        count_statements.statements.clear()
        data = await run(engine, NESTED, first=first)
        assert len(data["agreements"]["edges"]) == first
        counts.append(count_statements.count)
    assert counts[0] == counts[1]
    assert counts[0] <= 10


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ agreements { edges { node { agency { jurisdiction { "
            + "parent { " * 8
            + "name"
            + " }" * 14,
            "exceeds maximum",
        ),
        ("{ " + " ".join(f"a{i}: programModels {{ code }}" for i in range(20)) + " }", "aliases"),
        (
            "fragment F on ProgramModel { "
            + " ".join(f"a{i}: code" for i in range(20))
            + " } { programModels { ...F } }",
            "aliases",
        ),
        ("{ programModels { " + "code " * 2100 + "} }", "token"),
        (
            "{ jurisdictions(first: 100) { edges { node { agencies(first: 100) { edges { node {"
            " agreements(first: 100) { totalCount } } } } } } } }",
            "query too expensive",
        ),
    ],
    ids=["depth", "aliases", "aliases-in-fragment", "tokens", "cost"],
)
async def test_abuse_limits_reject_before_any_sql(
    engine: AsyncEngine, count_statements: StatementCounter, query: str, message: str
) -> None:
    messages = await errors_of(engine, query)
    assert any(message in m for m in messages), messages
    assert count_statements.count == 0


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('{ agreements(after: "bm90LWEtY3Vyc29y") { totalCount } }', "cursor is not one"),
        ("{ agreements(first: 101) { totalCount } }", "between 0 and 100"),
        ("{ agreements(first: -1) { totalCount } }", "between 0 and 100"),
        ("{ agreements(last: 101) { totalCount } }", "between 0 and 100"),
        ('{ agreements(before: "bm90LWEtY3Vyc29y") { totalCount } }', "cursor is not one"),
        ('{ agreements(filter: {state: "Texass"}) { totalCount } }', "unknown state 'Texass'"),
        ('{ node(id: "nope") { id } }', "is not an id of this API"),
        ('{ agreements(filter: {agencyNameContains: "a\\u0000b"}) { totalCount } }', "NUL"),
        (
            '{ agreementChanges(from: "2025-07-01", to: "2025-06-01")'
            " { pageInfo { hasNextPage } } }",
            "`to` must not be before `from`",
        ),
    ],
)
async def test_bad_input_gets_a_clear_error(engine: AsyncEngine, query: str, message: str) -> None:
    messages = await errors_of(engine, query)
    assert any(message in m for m in messages), messages


@pytest.mark.usefixtures("loaded")
async def test_cursor_of_another_ordering_is_refused(engine: AsyncEngine) -> None:
    data = await run(engine, "{ agreements(first: 1) { pageInfo { endCursor } } }")
    cursor = data["agreements"]["pageInfo"]["endCursor"]
    messages = await errors_of(
        engine,
        "query ($c: String) { agreements(after: $c, orderBy: {field: SIGNED_ON}) { totalCount } }",
        c=cursor,
    )
    assert "issued for ordering" in messages[0]


@pytest.mark.usefixtures("loaded")
async def test_unexpected_errors_are_masked(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("ALTER TABLE program_models RENAME TO program_models_gone"))
        await conn.commit()
    try:
        result = await schema.execute(
            "{ programModels { code } }", context_value=Context(engine, Settings())
        )
    finally:
        async with engine.connect() as conn:
            await conn.execute(text("ALTER TABLE program_models_gone RENAME TO program_models"))
            await conn.commit()
    assert result.errors is not None
    assert [e.message for e in result.errors] == ["Unexpected error."]


@pytest.mark.usefixtures("loaded")
async def test_node_and_ids_round_trip(engine: AsyncEngine) -> None:
    data = await run(engine, "{ agreements(first: 1) { edges { node { id agency { id } } } } }")
    node = data["agreements"]["edges"][0]["node"]
    found = await run(
        engine,
        "query ($id: ID!) { node(id: $id) { id ... on Agreement { agency { id } } } }",
        id=node["id"],
    )
    assert found["node"] == node


@pytest.mark.usefixtures("loaded")
async def test_stats_and_datasets(engine: AsyncEngine) -> None:
    data = await run(
        engine,
        "{ agreementStats(groupBy: [STATUS]) { key { status } count }"
        " detainerStats(groupBy: [STATE]) { key { state } issued suppressed }"
        " datasets { dataset isSynthetic isDemo sha256 } }",
    )
    stats = {row["key"]["status"]: row["count"] for row in data["agreementStats"]}
    assert stats["ACTIVE"] == await sql_count(engine, "status = 'ACTIVE'")
    assert sum(row["issued"] for row in data["detainerStats"]) == 3000
    assert not any(row["suppressed"] for row in data["detainerStats"])
    kinds = {(d["dataset"], d["isSynthetic"]) for d in data["datasets"]}
    assert kinds == {("ice-287g", False), ("detainers", True)}
    assert len(data["datasets"]) == 55


@pytest.mark.usefixtures("loaded")
async def test_http_post_get_and_graphiql(engine: AsyncEngine) -> None:
    app = create_app(engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        posted = await http.post("/graphql", json={"query": "{ programModels { code } }"})
        got = await http.get("/graphql", params={"query": "{ programModels { code } }"})
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        batch = await http.post("/graphql", json=[{"query": "{ programModels { code } }"}] * 2)
    assert posted.status_code == got.status_code == 200
    assert posted.json() == got.json()
    assert len(posted.json()["data"]["programModels"]) == 4
    assert "graphiql" in page.text.lower()
    assert batch.status_code == 400


def test_schema_file_is_current() -> None:
    """Regenerate with `python -m open287g.graphql.export` when the schema changes."""
    assert SDL_FILE.read_text() == str(schema) + "\n"


async def test_as_of_before_any_list_is_empty(engine: AsyncEngine) -> None:
    data = await run(engine, PAGE, first=5, asOf=dt.date(2000, 1, 1).isoformat())
    assert data["agreements"]["totalCount"] == 0


RESOLVERS_ONLY = build_schema(compiled=False)


def test_sdl_path_is_in_the_package() -> None:
    assert Path(SDL_FILE).parent.name == "graphql"


COMPILABLE = [
    (
        "{ agreements(first: 100) { edges { node { id status signedOn moaUrl firstSeen lastSeen"
        " model { code } agency { id name type jurisdiction { id name kind stateCode } } } } } }",
        {},
    ),
    (
        "query ($f: AgreementFilter, $o: AgreementOrder, $a: String) { x: agreements(first: 7,"
        " filter: $f, orderBy: $o, after: $a) { totalCount __typename pageInfo { hasNextPage"
        " endCursor __typename } edges { cursor __typename node { __typename addendumUrls"
        " signedRaw a: agency { county state __typename jurisdiction { fips __typename } }"
        " model { id name description legalBasis __typename } } } } }",
        {"f": {"state": "fl"}, "o": {"field": "SIGNED_ON", "direction": "DESC"}},
    ),
    (
        "{ agreements(first: 5, orderBy: {field: STATE}, filter: {status: ENDED}) {"
        " totalCount edges { cursor node { id status lastSeen } } } }",
        {},
    ),
    (
        '{ agreements(first: 9, asOf: "2025-06-01", orderBy: {field: FIRST_SEEN, direction: DESC})'
        " { totalCount pageInfo { endCursor hasNextPage } edges { cursor node { id status"
        " signedOn } } } }",
        {},
    ),
    (
        '{ agreements(first: 3, filter: {agencyNameContains: "no such agency"}) { totalCount'
        " pageInfo { hasNextPage endCursor } edges { cursor } } }",
        {},
    ),
    (
        # Lineage (declared with the agreement): renamed ones, with both links.
        "query ($a: String) { agreements(first: 20, after: $a, filter: {status: RENAMED}) {"
        " pageInfo { endCursor } edges { node { id firstSeen lineageFirstSeen"
        " predecessor { id lineageFirstSeen } successor { id status predecessor { id } }"
        " successorLink { __typename method score evidence predecessor { id }"
        " successor { id lineageFirstSeen successorLink { method } } }"
        " predecessorLink { method } } } } }",
        {},
    ),
    (
        # agreementChanges: one statement over both dates' lists, walked through cursors.
        'query ($a: String) { agreementChanges(from: "2025-05-16", to: "2025-07-11",'
        " first: 60, after: $a) { __typename pageInfo { hasNextPage endCursor } edges {"
        " __typename cursor node { __typename kind agreement { id status signedOn moaUrl"
        " lineageFirstSeen agency { name } successor { id } } } } } }",
        {},
    ),
    (
        "{ datasets { id dataset name url sha256 bytes fetchedAt snapshotKind snapshotDate"
        " isDemo isSynthetic loadRunId loadedAt rowsRead inserted updated unchanged ended"
        " rejected repaired __typename } }",
        {},
    ),
    (
        # Observations: a nested connection in (published, fetched, snapshot) order.
        "query ($a: String, $o: String) { agreements(first: 10, after: $a) { pageInfo {"
        " endCursor } edges { node { id observations(first: 3, after: $o) { __typename"
        " pageInfo { hasNextPage endCursor } edges { cursor node { __typename publishedOn"
        " kind rowNumber agencyName agencyType county signedOn signedRaw moaUrl addendumUrls"
        " datasetId dataset { id name sha256 fetchedAt loadedAt snapshotKind } } } } } } } }",
        {},
    ),
    (
        "query ($a: String, $o: String) { agreements(first: 4, after: $a) { pageInfo {"
        " endCursor } edges { node { observations(first: 2, after: $o) { pageInfo {"
        " hasNextPage endCursor } edges { cursor node { publishedOn } } } } } } }",
        # After the list published 2025-05-19 12:00 UTC, fetched 2025-05-20 15:18:13 UTC.
        {
            "o": encode_cursor(
                "observations", "2025-05-19T12:00:00+00:00|2025-05-20T15:18:13+00:00", 6
            )
        },
    ),
]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(("query", "variables"), COMPILABLE)
async def test_compiled_path_answers_exactly_like_the_resolvers(
    engine: AsyncEngine,
    count_statements: StatementCounter,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
) -> None:
    planned: list[object] = []
    original = CompiledOperations.plan

    def spy(self: CompiledOperations) -> Any:
        answer = original(self)
        planned.append(answer)
        return answer

    async def compare(after: str | None) -> str | None:
        given = {**variables, **({"a": after} if after else {})}
        fresh = build_schema()  # its own plan cache: this request is planned
        count_statements.statements.clear()
        with monkeypatch.context() as patch:
            patch.setattr(CompiledOperations, "plan", spy)
            compiled_answer = await run(engine, query, on=fresh, **given)
        assert planned, "the planner was not asked"
        assert planned[-1] is not None, "the query was not compiled"
        # One statement answers the whole operation (data and its version).
        assert count_statements.count == 1, count_statements.statements
        # Asked again, the plan cache answers: no planning, still one statement.
        planned.clear()
        count_statements.statements.clear()
        with monkeypatch.context() as patch:
            patch.setattr(CompiledOperations, "plan", spy)
            again = await run(engine, query, on=fresh, **given)
        assert planned == [], "a repeated request was planned again"
        assert count_statements.count == 1
        assert again == compiled_answer
        resolved = await run(engine, query, on=RESOLVERS_ONLY, **given)
        assert compiled_answer == resolved
        connection = next(iter(compiled_answer.values()))
        if not isinstance(connection, dict):
            return None  # a list (datasets): no pages
        cursor: str | None = connection.get("pageInfo", {}).get("endCursor")
        return cursor

    cursor = await compare(None)
    if cursor and "$a" in query:
        await compare(cursor)  # the next page, through a cursor the compiled path made


@pytest.mark.usefixtures("loaded")
async def test_queries_outside_the_plan_use_the_resolvers(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    """A field not declared in SQL (here `dataQuality`) keeps the operation on the
    resolvers: one statement per level, the same data as its declared neighbours."""
    query = (
        "{ agreements(first: 2) { edges { node { firstSeen policyStatus agency { name } } } } %s }"
    )
    data = await run(engine, query % "dataQuality { loadIssues { rows } }")
    count = count_statements.count
    nodes = [e["node"] for e in data["agreements"]["edges"]]
    assert [n["policyStatus"] for n in nodes] == ["UNKNOWN"] * 2
    assert isinstance(data["dataQuality"]["loadIssues"], list)
    assert count > 1
    count_statements.statements.clear()
    compiled = await run(engine, query % "")
    assert count_statements.count == 1
    assert compiled["agreements"]["edges"] == [{"node": n} for n in nodes]


@pytest.mark.usefixtures("loaded")
async def test_relations_resolve_without_eager_loading_too(engine: AsyncEngine) -> None:
    """node(id:) answers an object exactly as its page does, on both paths."""
    data = await run(
        engine,
        "{ agencies(first: 1, filter: {type: COUNTY}) { edges { node {"
        " id jurisdiction { id name parent { name } } policyStatus } } } }",
    )
    eager = data["agencies"]["edges"][0]["node"]
    lone = await run(
        engine,
        "query ($id: ID!) { node(id: $id) { ... on Agency { id"
        " jurisdiction { id name parent { name } } policyStatus } } }",
        id=eager["id"],
    )
    assert lone["node"] == eager
    assert eager["jurisdiction"]["parent"]["name"]


@pytest.mark.usefixtures("loaded")
async def test_nodes_answers_ids_in_order_in_one_statement(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    page = await run(engine, "{ agreements(first: 3) { edges { node { id status } } } }")
    ids = [edge["node"]["id"] for edge in page["agreements"]["edges"]]
    asked = [ids[2], "UHJvZ3JhbU1vZGVsOlRBU0tfRk9SQ0U", ids[0], "QWdyZWVtZW50Ojk5OTk5OTk"]
    query = (
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id"
        " ... on Agreement { status } ... on ProgramModel { code } } }"
    )
    count_statements.statements.clear()
    data = await run(engine, query, on=build_schema(), ids=asked)
    assert count_statements.count == 1
    assert data == await run(engine, query, on=RESOLVERS_ONLY, ids=asked)
    found = data["nodes"]
    assert [n and n["id"] for n in found] == [*asked[:3], None]
    assert found[0]["status"] == page["agreements"]["edges"][2]["node"]["status"]
    assert found[1]["code"] == "TASK_FORCE"
    too_many = await errors_of(engine, query, ids=[ids[0]] * 101)
    assert any("at most 100 ids" in e for e in too_many), too_many
    # Each id is charged as an object below: 100 agencies' 100 agreements are refused.
    expensive = (
        "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Agency"
        " { agreements(first: 100) { edges { node { id agency { name } } } } } } }"
    )
    refused = await errors_of(engine, expensive, ids=[ids[0]] * 100)
    assert any("too expensive" in e for e in refused), refused
