"""Places that exist (#21): every US county and county-equivalent is a jurisdiction with
its FIPS code, whether or not ICE names it, and has a page."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.gazetteer import county_by_fips
from open287g.db.reference_data import STATES


async def test_every_county_of_the_gazetteer_is_a_jurisdiction(conn: AsyncConnection) -> None:
    stored: dict[str, str] = dict(
        (
            await conn.execute(
                text("SELECT fips, name FROM jurisdictions WHERE kind = 'COUNTY' ORDER BY fips")
            )
        ).all()
    )
    states = {s.usps for s in STATES}
    expected = {c.fips: c.name for c in county_by_fips().values() if c.state_code in states}
    assert len(expected) == 3143
    assert stored == expected
    for fips, name in (("48201", "Harris County"), ("05091", "Miller County"),
                       ("22089", "St. Charles Parish"), ("37029", "Camden County")):  # fmt: skip
        assert stored[fips] == name
    parents = (
        await conn.execute(
            text(
                "SELECT count(*) FROM jurisdictions c JOIN jurisdictions s ON s.id = c.parent_id"
                " WHERE c.kind = 'COUNTY' AND s.kind = 'STATE' AND s.state_code = c.state_code"
                " AND left(c.fips, 2) = s.fips"
            )
        )
    ).scalar_one()
    assert parents == 3143


async def test_a_county_no_list_names_is_in_both_apis(engine: AsyncEngine) -> None:
    from open287g.api.app import create_app

    app = create_app(Settings(), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        rest = (await client.get("/v1/jurisdictions?kind=COUNTY&state=TX&limit=1000")).json()
        query = (
            '{ jurisdictions(first: 100, filter: {kind: COUNTY, state: "LA", nameContains:'
            ' "Charles"}) { edges { node { name fips kind } } } }'
        )
        graphql = (await client.post("/graphql", json={"query": query})).json()
    texas = {row["name"]: row["fips"] for row in rest["data"]}
    assert len(texas) == 254
    assert texas["Harris County"] == "48201"
    edges = graphql["data"]["jurisdictions"]["edges"]
    assert [e["node"] for e in edges] == [
        {"name": "St. Charles Parish", "fips": "22089", "kind": "COUNTY"}
    ]
