"""History and provenance served (#12), on the 54 real ICE snapshots: `activatedOn`,
predecessor/successor with their links and the lineage's first sight, every agreement's
observations leading to the real file and its sha256 (REST pages and exports, GraphQL
connection), one statement per level, the cost limiter, and ranked search."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries.ids import to_global_id
from open287g.graphql.schema import build_schema
from tests.support.database import StatementCounter
from tests.support.fixtures import ICE_DIR
from tests.support.graphql_support import database_url, execute, needs_data

__all__ = ["database_url"]
pytestmark = needs_data


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(Settings(), engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def agreement_id(engine: AsyncEngine, state: str, name: str, model: str) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT g.id FROM agreements g JOIN agencies a ON a.id = g.agency_id"
                " WHERE a.state_code = :state AND a.name = :name"
                " AND CAST(g.model_code AS text) = :model"
            ),
            {"state": state, "name": name, "model": model},
        )
        return int(found.scalar_one())


async def gql(engine: AsyncEngine, query: str, **variables: Any) -> Any:
    data, errors = await execute(engine, query, variables)
    assert not errors, errors
    return data


async def test_activated_on_is_served_in_both_apis(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    async with engine.connect() as conn:
        # An agreement first seen pending, activated later: the date of the transition.
        row = (
            await conn.execute(
                text(
                    "SELECT id, activated_on FROM agreements"
                    " WHERE activated_on > first_seen ORDER BY id LIMIT 1"
                )
            )
        ).one()
        first_participating = (
            await conn.execute(
                text(
                    "SELECT min(s.published_on) FROM agreement_observations o"
                    " JOIN snapshots s ON s.id = o.snapshot_id"
                    " WHERE o.agreement_id = :id AND s.kind = 'PARTICIPATING'"
                ),
                {"id": row.id},
            )
        ).scalar_one()
    assert row.activated_on == first_participating
    gid = to_global_id("Agreement", row.id)
    rest = (await client.get(f"/v1/agreements/{gid}")).json()["data"]
    assert rest["activated_on"] == row.activated_on.isoformat()
    query = "query ($id: ID!) { node(id: $id) { ... on Agreement { activatedOn firstSeen } } }"
    node = (await gql(engine, query, id=gid))["node"]
    assert node["activatedOn"] == row.activated_on.isoformat()
    assert node["firstSeen"] < node["activatedOn"]
    # As of a date: not yet activated the day before (listed pending, or not at all),
    # activated on the day.
    as_of = """query ($d: Date!, $q: String!) { agreements(first: 100, asOf: $d,
      filter: {agencyNameContains: $q}) { edges { node { id status activatedOn } } } }"""
    shown = {}
    for day in (row.activated_on - dt.timedelta(days=1), row.activated_on):
        data = await gql(engine, as_of, d=day.isoformat(), q=rest["agency_name"])
        shown[day] = {e["node"]["id"]: e["node"] for e in data["agreements"]["edges"]}
    before, on = shown.values()
    assert on[gid] == {"id": gid, "status": "ACTIVE", "activatedOn": row.activated_on.isoformat()}
    assert gid not in before or before[gid]["activatedOn"] is None


async def test_indialantic_is_continued_by_indiatlantic(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    old = await agreement_id(engine, "FL", "Indialantic Police Department", "TASK_FORCE")
    new = await agreement_id(engine, "FL", "Indiatlantic Police Department", "TASK_FORCE")
    old_gid, new_gid = to_global_id("Agreement", old), to_global_id("Agreement", new)
    query = """query ($id: ID!) { node(id: $id) { ... on Agreement {
      status firstSeen lineageFirstSeen predecessor { id }
      successor { id status firstSeen lineageFirstSeen predecessor { id } successor { id } }
      successorLink { method score evidence predecessor { id } successor { id } }
      predecessorLink { method } } } }"""
    node = (await gql(engine, query, id=old_gid))["node"]
    assert node["status"] == "RENAMED"
    assert node["predecessor"] is None
    assert node["predecessorLink"] is None
    assert node["successor"]["id"] == new_gid
    assert node["successor"]["predecessor"] == {"id": old_gid}
    assert node["successor"]["successor"] is None
    link = node["successorLink"]
    assert link["method"] == "NAME_SIMILARITY"
    assert link["score"] >= 90
    assert link["predecessor"] == {"id": old_gid}
    assert link["successor"] == {"id": new_gid}
    assert "Indialantic" in link["evidence"]
    assert "Indiatlantic" in link["evidence"]
    # The successor's own firstSeen restarts; its lineage's does not.
    assert node["successor"]["firstSeen"] > node["firstSeen"]
    assert node["successor"]["lineageFirstSeen"] == node["firstSeen"]

    rows = {
        gid: (await client.get(f"/v1/agreements/{gid}")).json()["data"]
        for gid in (old_gid, new_gid)
    }
    assert rows[old_gid]["successor_id"] == new_gid
    assert rows[old_gid]["successor_method"] == "name-similarity"
    assert rows[old_gid]["predecessor_id"] is None
    assert rows[new_gid]["predecessor_id"] == old_gid
    assert rows[new_gid]["predecessor_score"] == link["score"]
    assert rows[new_gid]["lineage_first_seen"] == node["firstSeen"]
    assert rows[new_gid]["first_seen"] == node["successor"]["firstSeen"]


async def observations_rest(client: httpx.AsyncClient, gid: str, limit: int) -> list[Any]:
    rows: list[Any] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = await client.get(f"/v1/agreements/{gid}/observations", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            return rows
        assert 'rel="next"' in response.headers["Link"]
        params["cursor"] = body["next_cursor"]


async def test_observations_lead_to_the_real_files(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    mercer = await agreement_id(engine, "ND", "Mercer County Sheriff's Office", "TASK_FORCE")
    gid = to_global_id("Agreement", mercer)
    async with engine.connect() as conn:
        expected = (
            await conn.execute(
                text(
                    "SELECT s.published_on, CAST(s.kind AS text), f.name, f.sha256, o.moa_url"
                    " FROM agreement_observations o JOIN snapshots s ON s.id = o.snapshot_id"
                    " JOIN source_files f ON f.id = s.source_file_id"
                    " WHERE o.agreement_id = :id ORDER BY s.published_at, f.fetched_at, s.id"
                ),
                {"id": mercer},
            )
        ).all()
    assert len(expected) >= 5
    rows = await observations_rest(client, gid, limit=2)  # walked through cursors
    assert rows == await observations_rest(client, gid, limit=1000)
    assert [(r["published_on"], r["kind"], r["file_name"], r["sha256"], r["moa_url"])
            for r in rows] == [
        (p.isoformat(), k, n, s, u) for p, k, n, s, u in expected
    ]  # fmt: skip
    datasets = {d["id"]: d for d in (await client.get("/v1/datasets")).json()["data"]}
    for row in rows:
        assert row["agreement_id"] == gid
        assert datasets[row["dataset_id"]]["sha256"] == row["sha256"]
        assert datasets[row["dataset_id"]]["name"] == row["file_name"]
        # The sha256 is the real file's: a user can check the copy they download.
        assert (
            hashlib.sha256((ICE_DIR / row["file_name"]).read_bytes()).hexdigest() == row["sha256"]
        )
        assert row["agency_name"] == "Mercer County Sheriff's Office"
    # ICE's wrong link is in the history, with the lists that carried it.
    assert any("WinklerCoSheriffsOfficeTX" in (r["moa_url"] or "") for r in rows)

    # Exports: the whole sub-collection, the same rows.
    csv_response = await client.get(f"/v1/agreements/{gid}/observations?format=csv")
    assert csv_response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert [r["sha256"] for r in table] == [r["sha256"] for r in rows]
    ndjson = await client.get(f"/v1/agreements/{gid}/observations?format=ndjson")
    assert [orjson.loads(line) for line in ndjson.text.splitlines()] == rows


async def test_graphql_agreement_observations_dataset(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    old = await agreement_id(engine, "FL", "Indialantic Police Department", "TASK_FORCE")
    new = await agreement_id(engine, "FL", "Indiatlantic Police Department", "TASK_FORCE")
    query = """query ($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Agreement {
      observations(first: $first, after: $after) {
        edges { cursor node { publishedOn kind rowNumber agencyName moaUrl signedOn signedRaw
          datasetId dataset { id name sha256 snapshotDate } } }
        pageInfo { hasNextPage endCursor } } } } }"""
    for agreement in (old, new):
        gid = to_global_id("Agreement", agreement)
        rest = await observations_rest(client, gid, limit=1000)
        whole = (await gql(engine, query, id=gid, first=100))["node"]["observations"]
        nodes = [edge["node"] for edge in whole["edges"]]
        assert [
            (n["publishedOn"], n["kind"], n["rowNumber"], n["agencyName"], n["moaUrl"],
             n["signedOn"], n["signedRaw"], n["datasetId"], n["dataset"]["name"],
             n["dataset"]["sha256"])
            for n in nodes
        ] == [
            (r["published_on"], r["kind"], r["row_number"], r["agency_name"], r["moa_url"],
             r["signed_on"], r["signed_raw"], r["dataset_id"], r["file_name"], r["sha256"])
            for r in rest
        ]  # fmt: skip
        assert all(n["dataset"]["id"] == n["datasetId"] for n in nodes)
        # Walking one at a time through cursors gives the same list.
        walked, after = [], None
        while True:
            page = (await gql(engine, query, id=gid, first=1, after=after))["node"]
            walked += page["observations"]["edges"]
            if not page["observations"]["pageInfo"]["hasNextPage"]:
                break
            after = page["observations"]["pageInfo"]["endCursor"]
        assert [e["node"] for e in walked] == nodes
    # The old name's rows name Indialantic; the new one's Indiatlantic.
    gid = to_global_id("Agreement", old)
    names = {n["node"]["agencyName"] for n in (await gql(engine, query, id=gid, first=100))[
        "node"]["observations"]["edges"]}  # fmt: skip
    assert names == {"Indialantic Police Department"}


@pytest.mark.parametrize("compiled", [True, False])
async def test_observations_cost_one_statement_per_level(
    engine: AsyncEngine, count_statements: StatementCounter, compiled: bool
) -> None:
    """Compiled: one statement for the whole operation. On the fallback resolvers: one per
    level, whatever the page size."""
    on = build_schema(compiled=compiled)
    query = """query ($first: Int) { agreements(first: $first) { edges { node { id
      observations(first: 3) { edges { node { publishedOn dataset { sha256 } } } }
      predecessor { id } successorLink { method } lineageFirstSeen } } } }"""
    counts = []
    await execute(engine, query, {"first": 1}, schema=on)  # new connections' setup: not counted
    for first in (5, 60):
        count_statements.statements.clear()
        data, errors = await execute(engine, query, {"first": first}, schema=on)
        assert errors == []
        assert len(data["agreements"]["edges"]) == first
        assert all(e["node"]["observations"]["edges"] for e in data["agreements"]["edges"])
        counts.append(count_statements.count)
    if compiled:
        assert counts == [1, 1], counts
    else:
        assert counts[0] == counts[1] > 1, counts


async def test_bad_ids_and_cursors_are_client_errors(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    gid = to_global_id("Agreement", 10**17)
    assert (await client.get(f"/v1/agreements/{gid}/observations")).status_code == 404
    agency = to_global_id("Agency", 1)
    assert (await client.get(f"/v1/agreements/{agency}/observations")).status_code == 404
    real = to_global_id("Agreement", await agreement_id(
        engine, "FL", "Indialantic Police Department", "TASK_FORCE"))  # fmt: skip
    bad = await client.get(f"/v1/agreements/{real}/observations", params={"cursor": "abc"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    other = (await client.get("/v1/agreements", params={"limit": 1})).json()["next_cursor"]
    refused = await client.get(f"/v1/agreements/{real}/observations", params={"cursor": other})
    assert refused.status_code == 400
    assert "ordering" in refused.json()["detail"]
    query = """query ($id: ID!) { node(id: $id) { ... on Agreement {
      observations(after: "abc") { edges { cursor } } } } }"""
    _data, errors = await execute(engine, query, {"id": real})
    assert errors
    assert "cursor" in errors[0]["message"]


async def test_the_cost_limiter_charges_observations_as_a_connection(engine: AsyncEngine) -> None:
    query = """{ agreements(first: 100) { edges { node {
      observations(first: 100) { edges { node { rowNumber moaUrl } } } } } } }"""
    data, errors = await execute(engine, query)
    assert data is None
    assert "too expensive" in errors[0]["message"]
    fits = """{ agreements(first: 10) { edges { node {
      observations(first: 20) { edges { node { rowNumber } } } } } } }"""
    _data, errors = await execute(engine, fits)
    assert not errors


async def test_ranked_search_puts_the_best_match_first(
    engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    body = await client.get("/v1/agreements", params={"q": "st cloud", "sort": "relevance"})
    names = [row["agency_name"] for row in body.json()["data"]]
    assert names[:2] == ["St. Cloud Police Department", "City of St. Cloud Police Department"]
    query = """query ($after: String) { agreements(first: 1, after: $after,
      filter: {agencyNameContains: "st cloud"}, orderBy: {field: RELEVANCE}) {
      edges { node { agency { name } } } pageInfo { hasNextPage endCursor } } }"""
    walked, after = [], None
    while True:
        page = (await gql(engine, query, after=after))["agreements"]
        walked += [e["node"]["agency"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == names
    # A longer search: every result contains it, best whole-word matches first.
    ranked = (await client.get("/v1/agreements", params={
        "q": "calhoun", "sort": "relevance", "limit": 1000})).json()["data"]  # fmt: skip
    plain = (await client.get("/v1/agreements", params={"q": "calhoun", "limit": 1000})).json()
    assert sorted(r["id"] for r in ranked) == sorted(r["id"] for r in plain["data"])
    # Without a search there is nothing to rank: id order, not an error.
    unranked = await client.get("/v1/agreements", params={"sort": "relevance", "limit": 3})
    default = await client.get("/v1/agreements", params={"limit": 3})
    assert unranked.json()["data"] == default.json()["data"]
