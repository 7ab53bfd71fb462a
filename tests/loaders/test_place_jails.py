"""A place's jails are those of its city and of the counties wholly inside it (outside
review C): New York City's page said no jail was placed in it and
/v1/facilities?jurisdiction=<NYC> was [], while Queens Central Booking (city QUEENS) is a
New York City jail; the page said "In New York County" of a city spanning five counties.
A policy CSV and a small release, read back through the real app."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.db import migrate
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import SourceDocument
from tests.support.fixtures import app_client, write

POLICIES = (
    "jurisdiction_level,state,name,fips,status,declared_sanctuary,policy_name,effective_date,"
    "source_title,source_url,notes\n"
    "city,NY,New York City,,RESTRICTS,true,Detainer law,2014-11-14,NYC detainer law,"
    "https://example.org/nyc,\n"
)
HEADER = (
    "detainer_prepare_date,facility_state,detention_facility,detention_facility_code,"
    "facility_city,detainer_lift_reason,unique_id\n"
)
JAILS = {  # code: (name, city, rows)
    "QUEENNY": ("QUEENS CENTRAL BOOKING", "QUEENS", 7),
    "NYCMANH": ("MANHATTAN DETENTION COMPLEX", "NEW YORK", 3),
    "ALBANNY": ("ALBANY COUNTY JAIL", "ALBANY", 5),
}


@pytest.fixture(scope="module")
async def http(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("nyc")
    await load_policy_document(
        engine, SourceDocument(name="nyc.csv", data=POLICIES.encode()), Settings()
    )
    lines = [
        f"2025-01-{1 + i:02d},NEW YORK,{name},{code},{city},Detainer Declined by LEA,{code}{i}\n"
        for code, (name, city, rows) in JAILS.items()
        for i in range(rows)
    ]
    release = write(Path(folder), "nyc.csv", (HEADER + "".join(lines)).encode())
    await load_detainer_source(engine, str(release), Settings(), is_synthetic=True)
    async with app_client(engine) as client:
        yield client


async def nyc_id(http: httpx.AsyncClient) -> str:
    rows = (await http.get("/v1/jurisdictions", params={"q": "New York City"})).json()["data"]
    [place] = [row for row in rows if row["kind"] == "PLACE"]
    return str(place["id"])


async def test_a_borough_s_jail_is_a_jail_of_new_york_city(http: httpx.AsyncClient) -> None:
    nyc = await nyc_id(http)
    listed = (await http.get("/v1/facilities", params={"jurisdiction": nyc})).json()["data"]
    assert sorted(row["code"] for row in listed) == ["NYCMANH", "QUEENNY"]
    stats = await http.get("/v1/stats/detainers", params={"group_by": "state", "jurisdiction": nyc})
    assert [row["issued"] for row in stats.json()["data"]] == [10]
    query = (
        "query($id: ID!) { node(id: $id) { ... on Jurisdiction {"
        " facilities(first: 10) { edges { node { code } } } } } }"
    )
    body = (await http.post("/graphql", json={"query": query, "variables": {"id": nyc}})).json()
    edges = body["data"]["node"]["facilities"]["edges"]
    assert sorted(edge["node"]["code"] for edge in edges) == ["NYCMANH", "QUEENNY"]


async def test_new_york_city_s_page_names_its_jails_and_claims_no_one_county(
    http: httpx.AsyncClient,
) -> None:
    page = (await http.get(f"/jurisdictions/{await nyc_id(http)}")).text
    assert "No jail in the loaded detainer releases is placed in" not in page
    assert "QUEENS CENTRAL BOOKING" in page
    assert "ALBANY COUNTY JAIL" not in page
    assert 'id="spans"' in page
    assert "Queens County (36081)" in page
    facts = page[page.index('<dl class="facts">') : page.index("</dl>")]
    assert "New York County</a> (county)" not in facts
    assert "(county)" not in facts


async def test_a_new_york_city_stored_inside_one_county_moves_to_its_state(
    engine: AsyncEngine, http: httpx.AsyncClient
) -> None:
    """Migration 0027 on a database whose New York City was stored inside New York County
    (as loads before it did): it moves to New York State and is re-emitted."""
    nyc = await nyc_id(http)
    key = int(base64.urlsafe_b64decode(nyc + "==").decode().split(":")[1])
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE jurisdictions SET parent_id = (SELECT id FROM jurisdictions"
                " WHERE kind = 'COUNTY' AND fips = '36061') WHERE id = :id"
            ),
            {"id": key},
        )
        before = (await conn.execute(text("SELECT max(seq) FROM changes"))).scalar_one()
    migrate.downgrade(engine.url, "0026")
    migrate.upgrade(engine.url)
    record = (await http.get(f"/v1/jurisdictions/{nyc}")).json()["data"]
    state = (await http.get(f"/v1/jurisdictions/{record['parent_id']}")).json()["data"]
    assert (state["kind"], state["name"]) == ("STATE", "New York")
    feed = (await http.get("/v1/changes", params={"since": before})).json()["data"]
    assert [c["id"] for c in feed if c["entity"] == "jurisdiction"] == [nyc]
