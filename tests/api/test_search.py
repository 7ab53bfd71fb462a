"""Search folds like identity does: `q` and `agencyNameContains` ignore case, apostrophes
and quotes (’ included), punctuation, `&`/`and` and spacing; a trigram index serves it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.loaders.ice287g.load import load_sources, plan_sources
from tests.support.fixtures import ICE_DIR, ICE_FILES

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    await load_sources(engine, plan_sources([str(p) for p in ICE_FILES[:2]]), Settings())
    transport = httpx.ASGITransport(app=create_app(Settings(), engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def names(client: httpx.AsyncClient, q: str) -> set[tuple[str, str]]:
    body = (await client.get("/v1/agreements", params={"q": q, "limit": 1000})).json()
    agencies = (await client.get("/v1/agencies", params={"q": q, "limit": 1000})).json()
    by_agreement = {(row["state"], row["agency_name"]) for row in body["data"]}
    by_agency = {(row["state"], row["name"]) for row in agencies["data"]}
    assert by_agreement == by_agency
    return by_agency


async def test_straight_apostrophe_finds_the_curly_one(client: httpx.AsyncClient) -> None:
    found = await names(client, "Calhoun County Sheriff's Office")
    assert ("TX", "Calhoun County Sheriff’s Office") in found  # stored with ’
    assert ("FL", "Calhoun County Sheriff's Office") in found
    assert await names(client, "calhoun  county sheriff’s") == found
    assert await names(client, "CALHOUN COUNTY SHERIFFS OFFICE") == found


async def test_punctuation_and_spacing_do_not_matter(client: httpx.AsyncClient) -> None:
    st_cloud = await names(client, "st cloud")
    assert ("FL", "City of St. Cloud Police Department") in st_cloud
    assert ("FL", "St. Cloud Police Department") in st_cloud
    assert await names(client, "St. Cloud") == st_cloud
    assert await names(client, "no such agency anywhere") == set()


async def test_graphql_agency_name_contains_folds_too(client: httpx.AsyncClient) -> None:
    query = (
        '{ agreements(first: 100, filter: {agencyNameContains: "calhoun county sheriff\'s"})'
        " { edges { node { agency { name state } } } } }"
    )
    body = (await client.post("/graphql", json={"query": query})).json()
    found = {
        (e["node"]["agency"]["state"], e["node"]["agency"]["name"])
        for e in body["data"]["agreements"]["edges"]
    }
    assert ("TX", "Calhoun County Sheriff’s Office") in found


async def test_folding_is_one_function_and_the_index_serves_it(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        folded = (
            await conn.execute(
                text("SELECT search_fold(:a), search_fold(:b)"),
                {"a": "Sheriff’s  Office & Jail", "b": "SHERIFFS OFFICE and jail"},
            )
        ).one()
        await conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            (
                await conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM agencies"
                        " WHERE name_fold LIKE '%' || search_fold('st cloud') || '%'"
                    )
                )
            ).scalars()
        )
    assert folded[0] == folded[1] == "sheriffs office and jail"
    assert "ix_agencies_name_fold" in plan
