"""Policy from every source, side by side, and places by the best evidence (#21), on the
shared data: the 54 ICE lists and the three policy files of ../shared/data/policies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from open287g.config import Settings
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from tests.conftest import SHARED_DATA, create_database_copy, drop_database
from tests.fixtures import ICE_DIR, ice_xlsx

POLICY_DIR = SHARED_DATA / "policies"
DOJ = "doj-sanctuary-jurisdictions-2025-08-05.csv"
BRIEF_TITLE = "287(g): Helping States Help Themselves"


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine) -> None:
    if not ICE_DIR.is_dir() or not POLICY_DIR.is_dir():
        pytest.skip("the shared data is not present")
    settings = Settings()
    await load_sources(engine, plan_sources([str(ICE_DIR)]), settings)
    for path in sorted(POLICY_DIR.glob("*.csv")):
        await load_policy_document(engine, read_path(str(path), 10**6), settings)


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    from open287g.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(Settings(), engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def graphql(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    answer = (await client.post("/graphql", json={"query": query})).json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


STATE = (
    '{{ jurisdictions(first: 1, filter: {{kind: STATE, state: "{state}"}}) {{ edges {{ node {{'
    " name policyStatus policy {{ status basis source {{ title date }} }}"
    " policies {{ status basis effectiveDate source {{ title date }} }} }} }} }} }}"
)


async def test_texas_shows_the_sb8_mandate(loaded: None, client: httpx.AsyncClient) -> None:
    [edge] = (await graphql(client, STATE.format(state="TX")))["jurisdictions"]["edges"]
    texas = edge["node"]
    assert texas["policyStatus"] == "MANDATES"
    assert texas["policy"]["basis"] == "LAW"
    assert texas["policy"]["source"]["title"].startswith("Texas Legislature, S.B. 8")
    assert [p["effectiveDate"] for p in texas["policies"]] == ["2026-01-01"]
    # A state's law applies to every county in it: Harris County has no assertion of its own.
    query = (
        '{ jurisdictions(first: 1, filter: {kind: COUNTY, state: "TX", nameContains: "Harris '
        'County"}) { edges { node { fips policyStatus policies { status } } } } }'
    )
    [harris] = (await graphql(client, query))["jurisdictions"]["edges"]
    assert harris["node"] == {"fips": "48201", "policyStatus": "MANDATES", "policies": []}


async def test_california_shows_both_its_sources(loaded: None, client: httpx.AsyncClient) -> None:
    [edge] = (await graphql(client, STATE.format(state="CA")))["jurisdictions"]["edges"]
    california = edge["node"]
    assert california["policyStatus"] == "RESTRICTS"
    sources = {(p["basis"], p["source"]["title"]) for p in california["policies"]}
    assert len(sources) == 2
    assert ("REPORT", BRIEF_TITLE) in sources
    designation = [p for p in california["policies"] if p["basis"] == "DESIGNATION"]
    assert designation[0]["source"]["date"] == "2025-08-05"
    # The rule: a designation outranks a report, so the status in force is the DOJ's.
    assert california["policy"]["basis"] == "DESIGNATION"
    rest = (await client.get("/v1/policies?limit=1000")).json()["data"]
    assert {row["basis"] for row in rest} == {"LAW", "DESIGNATION", "REPORT"}
    assert len(rest) == 6 + 35 + 1


async def test_the_quality_report_flags_the_sources_disagreements(
    loaded: None, client: httpx.AsyncClient
) -> None:
    report = (await client.get("/v1/quality")).json()["data"]["policy_disagreements"]
    not_in_doj = {
        d["state"] for d in report
        if d["kind"] == "NOT_NAMED" and d["sources"][0] == BRIEF_TITLE
    }  # fmt: skip
    assert not_in_doj == {"MA", "NM", "ME"}
    not_in_brief = {
        d["state"] for d in report
        if d["kind"] == "NOT_NAMED" and d["sources"][1] == BRIEF_TITLE
    }  # fmt: skip
    assert not_in_brief == {"CO", "CT", "MN", "NV", "NY", "OR", "RI", "VT", "WA", "DC"}
    disputed = [d for d in report if d["kind"] == "DISPUTED"]
    assert [d["jurisdiction_name"] for d in disputed] == ["Baltimore County"]
    # Texas S.B. 8 is one state's law, not a list: its silence about others is no dispute.
    assert not any("S.B. 8" in " ".join(d["sources"]) for d in report)
    query = "{ dataQuality { policyDisagreements { kind state jurisdiction { fips } } } }"
    found = (await graphql(client, query))["dataQuality"]["policyDisagreements"]
    assert {"kind": "DISPUTED", "state": "MD", "jurisdiction": {"fips": "24005"}} in found


async def test_doj_cities_are_places_inside_their_counties(
    loaded: None, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT j.name, c.fips FROM policies p JOIN jurisdictions j"
                    " ON j.id = p.jurisdiction_id JOIN jurisdictions c ON c.id = j.parent_id"
                    " WHERE j.kind = 'PLACE'"
                )
            )
        ).all()
    counties = {str(r[0]): str(r[1]) for r in rows}
    assert len(counties) == 18
    assert counties["Chicago"] == "17031"
    assert counties["San Francisco"] == "06075"
    assert counties["New Orleans"] == "22071"


PLACED = """
SELECT a.name, j.kind, j.name, coalesce(j.fips, c.fips), c.kind
FROM agencies a JOIN jurisdictions j ON j.id = a.jurisdiction_id
LEFT JOIN jurisdictions c ON c.id = j.parent_id
WHERE a.name IN ('Texarkana Police Department', 'St. Charles Place Sheriff''s Office',
                 'Albemarle District Jail', 'Okeechobee Police Department',
                 'Alachua Police Departent', 'Damascus Township Constable')
"""


async def test_ice_errors_are_placed_by_rules_and_reviewed_overrides(
    loaded: None, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        placed = {str(r[0]): tuple(r[1:]) for r in await conn.execute(text(PLACED))}
        reasons = (
            await conn.execute(
                text("SELECT DISTINCT reason FROM load_issues WHERE reason LIKE 'placement: %'")
            )
        ).scalars()
        found = list(reasons)
    assert placed == {
        # Reviewed overrides (migration 0019): ICE's COUNTY cells name no county of the state.
        "Texarkana Police Department": ("PLACE", "Texarkana", "05091", "COUNTY"),
        "St. Charles Place Sheriff's Office": ("COUNTY", "St. Charles Parish", "22089", "STATE"),
        "Albemarle District Jail": ("COUNTY", "Pasquotank County", "37139", "STATE"),
        # Rules: the name is a place's police whatever TYPE says; a TYPE-County place with
        # no COUNTY cell that is named like a county of its state lies inside it.
        "Okeechobee Police Department": ("PLACE", "Okeechobee", "12093", "COUNTY"),
        "Alachua Police Departent": ("PLACE", "Alachua", "12001", "COUNTY"),
        "Damascus Township Constable": ("PLACE", "Damascus Township", "42", "STATE"),
    }
    assert any("TYPE says County, but the name is a place's police" in r for r in found)
    assert any("the COUNTY cell says Bedford County, the agency's own name" in r for r in found)
    async with engine.connect() as conn:
        sheriffs = (
            await conn.execute(
                text(
                    "SELECT a.state_code, j.fips FROM agencies a JOIN jurisdictions j"
                    " ON j.id = a.jurisdiction_id WHERE (a.state_code, a.name) IN"
                    " (('PA', 'Bradford County Sheriff''s Office'),"
                    "  ('TN', 'Madison County Sheriff''s Office'))"
                )
            )
        ).all()
    assert sorted(tuple(r) for r in sheriffs) == [("PA", "42015"), ("TN", "47113")]
    assert any("reviewed override: placed in Texarkana (Miller County 05091)" in r for r in found)


@pytest.fixture
async def fresh(server_url: URL, template_url: URL) -> AsyncIterator[AsyncEngine]:
    """A database of its own: a generated list must not become the shared lists' latest."""
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    yield engine
    await engine.dispose()
    await drop_database(server_url, url)


async def test_chicago_pd_shows_the_dojs_designation_of_chicago(
    fresh: AsyncEngine, tmp_path: Path
) -> None:
    """No Illinois agency has an agreement; a generated list names Chicago's police."""
    data = ice_xlsx(
        [("ILLINOIS", "Chicago Police Department", "Municipality", "Cook County",
          "Task Force Model", "03/01/2025")]
    )  # fmt: skip
    path = tmp_path / "participatingAgencies03022025am.xlsx"
    path.write_bytes(data)
    await load_sources(fresh, plan_sources([str(path)]), Settings())
    await load_policy_document(fresh, read_path(str(POLICY_DIR / DOJ), 10**6), Settings())
    async with fresh.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT CAST(j.kind AS text), j.name, c.fips FROM agencies a"
                    " JOIN jurisdictions j ON j.id = a.jurisdiction_id"
                    " JOIN jurisdictions c ON c.id = j.parent_id"
                )
            )
        ).one()
    assert tuple(row) == ("PLACE", "Chicago", "17031")  # the list's place, the DOJ's place
    from open287g.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(Settings(), engine=fresh))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        query = (
            "{ agencies(first: 1) { edges { node { id name policyStatus"
            " policy { basis jurisdiction { name kind } source { title date } } } } } }"
        )
        [edge] = (await graphql(http, query))["agencies"]["edges"]
        agency = edge["node"]
        page = await http.get(f"/agencies/{agency['id']}")
    assert agency["policyStatus"] == "RESTRICTS"
    assert agency["policy"]["basis"] == "DESIGNATION"
    assert agency["policy"]["jurisdiction"] == {"name": "Chicago", "kind": "PLACE"}
    assert agency["policy"]["source"]["date"] == "2025-08-05"
    assert page.status_code == 200
    assert "Chicago" in page.text
    assert "Justice Department Publishes List of Sanctuary Jurisdictions" in page.text


@pytest.mark.parametrize(
    ("state", "name", "fips", "status", "agencies"),
    [
        ("TX", "Harris County", "48201", "Mandates", "No agency on the loaded ICE lists"),
        ("AR", "Miller County", "05091", "Unknown", "Texarkana Police Department"),
        ("LA", "St. Charles Parish", "22089", "Unknown", "St. Charles Place Sheriff"),
    ],
)
async def test_county_pages_exist_named_by_ice_or_not(
    loaded: None, client: httpx.AsyncClient, state: str, name: str, fips: str, status: str,
    agencies: str,
) -> None:  # fmt: skip
    found = (
        await client.get(f"/v1/jurisdictions?kind=COUNTY&state={state}&q={name}&limit=5")
    ).json()["data"]
    [county] = [row for row in found if row["fips"] == fips]
    page = await client.get(f"/jurisdictions/{county['id']}")
    assert page.status_code == 200
    assert f"<h1>{name}</h1>" in page.text
    assert f'<dd id="fips">{fips}</dd>' in page.text
    assert f"Status in force: <strong>{status}</strong>" in page.text
    assert agencies in page.text
    if state == "TX":  # the state's law applies to the county, and the page says whose it is
        assert "Texas Legislature, S.B. 8" in page.text
        assert "an assertion about Texas that applies here" in page.text
    missing = await client.get("/jurisdictions/SnVyaXNkaWN0aW9uOjk5OTk5OTk=")
    assert missing.status_code == 404


async def test_the_california_page_shows_both_sources(
    loaded: None, client: httpx.AsyncClient
) -> None:
    page = await client.get("/states/CA")
    assert page.status_code == 200
    assert BRIEF_TITLE in page.text
    assert "Justice Department Publishes List of Sanctuary Jurisdictions" in page.text


async def test_the_home_headline_names_its_sources_and_coverage(
    loaded: None, client: httpx.AsyncClient
) -> None:
    page = (await client.get("/")).text
    start = page.index('id="policy-sources"')
    sources = " ".join(page[start : page.index("</p>", start)].split())
    assert f"{BRIEF_TITLE}: 6 of 51 states have an assertion from it;" in sources
    assert "(5 Aug 2025): 13 of 51 states have an assertion from it, and 22 counties" in sources
    assert "S.B. 8" in sources
    assert ": 1 of 51 states have an assertion from it" in sources
    assert "34 of 51 states have none: unknown" in sources
    # No detainer release is loaded in this database: the page says so, promises nothing.
    assert "No ICE detainer release is loaded" in page
    assert "Detainers by state and month" not in page


async def test_the_albemarle_district_jail_serves_three_counties(
    loaded: None, client: httpx.AsyncClient
) -> None:
    query = (
        '{ agencies(first: 5, filter: {state: "NC", nameContains: "Albemarle District"})'
        " { edges { node { name jurisdiction { fips } servedJurisdictions { name fips } } } } }"
    )
    [edge] = (await graphql(client, query))["agencies"]["edges"]
    jail = edge["node"]
    assert jail["jurisdiction"] == {"fips": "37139"}
    assert [j["fips"] for j in jail["servedJurisdictions"]] == ["37139", "37029", "37143"]
    # An agency no override names serves its own jurisdiction only.
    query = (
        '{ agencies(first: 1, filter: {state: "AR", nameContains: "Texarkana"})'
        " { edges { node { servedJurisdictions { name kind } } } } }"
    )
    [edge] = (await graphql(client, query))["agencies"]["edges"]
    assert edge["node"]["servedJurisdictions"] == [{"name": "Texarkana", "kind": "PLACE"}]
