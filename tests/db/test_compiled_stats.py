"""Statistics are declared entities (`open287g.db.entities.statistics`): an operation with
`agreementStats`, `detainerStats` or a jurisdiction's `detainerStats` compiles to ONE
statement, which gives the same data as the fallback resolvers (generated from the same
declarations) and the same numbers as the query layer REST publishes from (the disclosure
control's rounding included); `declineRate` equals `DetainerStatRow.decline_rate`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.db.queries import agreements, detainers
from open287g.db.queries.agreements import AgreementDimension
from open287g.db.queries.detainers import DetainerDimension
from open287g.db.queries.ids import to_global_id
from open287g.graphql.schema import build_schema
from tests.support.database import StatementCounter
from tests.support.graphql_support import database_url, execute, needs_data

__all__ = ["database_url"]
pytestmark = needs_data
COMPILED = build_schema()
RESOLVERS = build_schema(compiled=False)

STAT = (
    "key { state facility month outcome criminality citizenship agency jurisdiction __typename }"
    " issued declined bookedIntoDetention pending declineRate rounded suppressed __typename"
)
GROUPINGS = [
    [],
    ["STATE"],
    ["MONTH", "OUTCOME"],
    ["FACILITY"],
    ["JURISDICTION", "AGENCY"],
    ["CITIZENSHIP"],
    ["STATE", "CRIMINALITY"],
    ["OUTCOME", "CITIZENSHIP", "MONTH"],
]


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


async def both(
    engine: AsyncEngine,
    count_statements: StatementCounter,
    query: str,
    variables: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> Any:
    """The compiled answer (asserted to be one statement) after checking it equals the
    fallback's."""
    expected, expected_errors = await execute(
        engine, query, variables, schema=RESOLVERS, settings=settings
    )
    assert expected_errors == []
    count_statements.statements.clear()
    data, errors = await execute(engine, query, variables, schema=COMPILED, settings=settings)
    assert errors == []
    assert count_statements.count == 1, count_statements.statements
    assert data == expected
    return data


@pytest.mark.parametrize("group_by", GROUPINGS, ids=lambda g: "-".join(g) or "none")
async def test_detainer_stats_compile_to_one_statement_with_the_published_numbers(
    engine: AsyncEngine, count_statements: StatementCounter, group_by: list[str]
) -> None:
    query = f"{{ detainerStats(groupBy: [{', '.join(group_by)}]) {{ {STAT} }} }}"
    rows = (await both(engine, count_statements, query))["detainerStats"]
    async with engine.connect() as conn:
        published = await detainers.detainer_stats(
            conn,
            [DetainerDimension(d) for d in group_by],
            detainers.DetainerFilter(),
            min_cell=5,
            min_margin=Settings().min_margin,
        )
    assert rows, "the synthetic detainers are loaded"
    assert len(rows) == len(published)
    for row, want in zip(rows, published, strict=True):
        key = {d.value.lower(): _json(want.key.get(d)) for d in DetainerDimension}
        assert {k: v for k, v in row["key"].items() if k != "__typename"} == key
        assert (row["issued"], row["declined"], row["bookedIntoDetention"], row["pending"]) == (
            want.issued,
            want.declined,
            want.booked_into_detention,
            want.pending,
        )
        assert row["declineRate"] == want.decline_rate  # exactly the Python property
        assert row["rounded"] is want.rounded
        assert row["suppressed"] is want.suppressed


async def test_a_jurisdictions_detainer_stats_compile_with_filters_and_variables(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    """States (their facilities) and counties (facilities matched to them), with a filter
    whose `state` the jurisdiction overrides, and a page of them in one statement."""
    async with engine.connect() as conn:
        county = (
            await conn.execute(
                text(
                    "SELECT j.id FROM jurisdictions j JOIN detainer_facilities f"
                    " ON f.jurisdiction_id = j.id ORDER BY j.id LIMIT 1"
                )
            )
        ).scalar_one()
    query = (
        "query($g: [DetainerDimension!]!, $f: DetainerFilter) {"
        ' tx: jurisdictions(first: 1, filter: {state: "TX", kind: STATE}) { edges { node {'
        f"  name detainerStats(groupBy: $g, filter: $f) {{ {STAT} }} }} }} }}"
        f" county: node(id: $county) {{ ... on Jurisdiction {{ name"
        "  all: detainerStats(groupBy: [OUTCOME]) { key { outcome } issued declineRate }"
        "  byCitizenship: detainerStats(groupBy: $g) { issued rounded } } } }"
    ).replace("query($g", "query($county: ID!, $g")
    variables = {
        "county": to_global_id("Jurisdiction", county),
        "g": ["MONTH", "CITIZENSHIP"],
        "f": {"state": "CA", "from": "2025-01-01"},
    }
    data = await both(engine, count_statements, query, variables)
    [texas] = [edge["node"] for edge in data["tx"]["edges"]]
    assert texas["detainerStats"], "the state filter is the jurisdiction's, not CA"
    async with engine.connect() as conn:
        want = await detainers.detainer_stats(
            conn,
            [DetainerDimension.MONTH, DetainerDimension.CITIZENSHIP],
            detainers.DetainerFilter(state="TX", start=dt.date(2025, 1, 1)),
            min_cell=5,
            min_margin=Settings().min_margin,
        )
        outcomes = await detainers.detainer_stats(
            conn,
            [DetainerDimension.OUTCOME],
            detainers.DetainerFilter(jurisdiction=county),
            min_cell=5,
        )
    assert [r["issued"] for r in texas["detainerStats"]] == [r.issued for r in want]
    assert [r["issued"] for r in data["county"]["all"]] == [r.issued for r in outcomes]
    assert data["county"]["all"]


async def test_agreement_stats_compile_beside_other_fields(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    query = (
        "{ agreementStats(groupBy: [STATE, MODEL], filter: {status: ACTIVE}) {"
        " key { state model status signedMonth agencyType } count __typename }"
        " none: agreementStats(groupBy: []) { count }"
        " rows: agreementStats(groupBy: [], countBy: LIST_ROWS) { count }"
        " months: agreementStats(groupBy: [SIGNED_MONTH, AGENCY_TYPE, STATUS]) {"
        "  key { signedMonth agencyType status } count }"
        " agreements(first: 2) { totalCount }"
        f" detainerStats(groupBy: [STATE]) {{ {STAT} }} }}"
    )
    data = await both(engine, count_statements, query)
    async with engine.connect() as conn:
        want = await agreements.agreement_stats(
            conn,
            [AgreementDimension.STATE, AgreementDimension.MODEL],
            agreements.AgreementFilter(status="ACTIVE"),
        )
    got = [(r["key"]["state"], r["key"]["model"], r["count"]) for r in data["agreementStats"]]
    assert got == [
        (key[AgreementDimension.STATE], key[AgreementDimension.MODEL], n) for key, n in want
    ]
    # Each lineage once by default (a model switch ends one agreement and starts another,
    # so its link joins no lineage); every record the lists carried with LIST_ROWS.
    async with engine.connect() as conn:
        links = (
            await conn.execute(
                text("SELECT count(*) FROM agreement_links WHERE CAST(kind AS text) <> 'SWITCH'")
            )
        ).scalar_one()
        switches = (
            await conn.execute(
                text("SELECT count(*) FROM agreement_links WHERE CAST(kind AS text) = 'SWITCH'")
            )
        ).scalar_one()
    assert switches, "the shared lists hold a model switch (Butler County PA)"
    assert data["rows"] == [{"count": data["agreements"]["totalCount"]}]
    assert data["none"] == [{"count": data["agreements"]["totalCount"] - links}]
    assert sum(r["count"] for r in data["months"]) == data["none"][0]["count"]


async def test_the_rounding_base_is_the_requests_not_the_cached_plans(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    """A plan is cached by document and variables: the base (OPEN287G_MIN_CELL) is bound
    when it runs, from the settings of the app answering."""
    query = "{ detainerStats(groupBy: [CITIZENSHIP]) { key { citizenship } issued } }"
    answers = []
    for base in (5, 50, 5):
        settings = Settings(min_cell=base)
        data = await both(engine, count_statements, query, settings=settings)
        count_statements.statements.clear()
        again, _ = await execute(engine, query, schema=COMPILED, settings=settings)
        assert count_statements.count == 1  # from the plan cache
        assert again == data
        assert all(row["issued"] % base == 0 for row in data["detainerStats"])
        answers.append(data)
    assert answers[0] == answers[2] != answers[1]


async def test_bad_arguments_give_the_same_errors_on_both_paths(engine: AsyncEngine) -> None:
    for query in (
        '{ detainerStats(groupBy: [STATE], filter: {state: "ZZ"}) { issued } }',
        '{ agreementStats(groupBy: [STATE], filter: {state: "Texass"}) { count } }',
        "{ jurisdictions(first: 1) { edges { node {"
        ' detainerStats(groupBy: [STATE], filter: {state: "ZZ"}) { issued } } } } }',
    ):
        compiled = await execute(engine, query, schema=COMPILED)
        assert compiled == await execute(engine, query, schema=RESOLVERS)
        assert compiled[1], query
