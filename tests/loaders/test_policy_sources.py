"""Policy from every source, side by side, and places by the best evidence (#21), on the
shared data: the 54 ICE lists and the three policy files of ../shared/data/policies."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from open287g.config import Settings
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from tests.support.database import database_copy
from tests.support.environment import SHARED_DATA
from tests.support.fixtures import ICE_DIR, ice_xlsx
from tests.support.snapshots import database_url

__all__ = ["database_url"]  # this module's database: a copy of the ICE template
POLICY_DIR = SHARED_DATA / "policies"
DOJ = "doj-sanctuary-jurisdictions-2025-08-05.csv"
BRIEF_TITLE = "287(g): Helping States Help Themselves"


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine) -> None:
    if not ICE_DIR.is_dir() or not POLICY_DIR.is_dir():
        pytest.skip("the shared data is not present")
    settings = Settings()  # over the 54 snapshots the module's database holds already
    for path in sorted(POLICY_DIR.glob("*.csv")):
        await load_policy_document(engine, read_path(str(path), 10**6), settings)


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    from open287g.app import create_app

    transport = httpx.ASGITransport(app=create_app(Settings(), engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def graphql(client: httpx.AsyncClient, query: str) -> dict[str, Any]:
    answer = (await client.post("/graphql", json={"query": query})).json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


def paragraph(page: str, element_id: str) -> str:
    """The text of the paragraph with this id, its whitespace folded."""
    start = page.index(f'id="{element_id}"')
    return " ".join(page[start : page.index("</p>", start)].split())


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
    async with database_copy(server_url, template_url, poolclass=NullPool) as engine:
        yield engine


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
    from open287g.app import create_app

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
    sources = paragraph(page, "policy-sources")
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


async def test_butler_county_wso_ended_and_switched_to_its_task_force(
    loaded: None, client: httpx.AsyncClient
) -> None:
    """A model switch ends the old agreement (SPEC: no SWITCHED status): Butler County
    SO's WSO is ENDED, with its switchedTo the Task Force agreement that followed (whose
    switchedFrom names it back), in GraphQL, REST and on the agency's page."""
    query = (
        '{ agreements(first: 5, filter: {state: "PA", agencyNameContains: "Butler County"})'
        " { edges { node { id status endedOn model { code } switchedFrom { id }"
        " switchedTo { id status model { code } } successor { id } } } } }"
    )
    nodes = {e["node"]["model"]["code"]: e["node"] for e in (await graphql(client, query))[
        "agreements"]["edges"]}  # fmt: skip
    wso, task = nodes["WARRANT_SERVICE_OFFICER"], nodes["TASK_FORCE"]
    assert (wso["status"], wso["endedOn"], wso["successor"]) == ("ENDED", "2025-06-06", None)
    assert wso["switchedTo"] == {"id": task["id"], "status": "ACTIVE",
                                 "model": {"code": "TASK_FORCE"}}  # fmt: skip
    assert task["switchedFrom"] == {"id": wso["id"]}
    assert task["switchedTo"] is None
    row = (await client.get(f"/v1/agreements/{wso['id']}")).json()["data"]
    assert (row["status"], row["switched_to_id"], row["switched_from_id"]) == (
        "ENDED", task["id"], None)  # fmt: skip
    assert (await client.get(f"/v1/agreements/{task['id']}")).json()["data"][
        "switched_from_id"] == wso["id"]  # fmt: skip
    # Statistics count both agreements: the ended WSO among the three real terminations.
    ended = (await client.get("/v1/stats/agreements?group_by=status&status=ENDED")).json()
    assert ended["data"] == [{"status": "ENDED", "count": 3}]
    page = (await client.get(f"/agencies/{row['agency_id']}")).text
    assert "ended: an active agreement" in page
    assert "the agency went on under the Task force model" in page
    assert "SWITCHED" not in page


async def test_headlines_name_their_lists_and_unloaded_sections_say_so(
    loaded: None, client: httpx.AsyncClient
) -> None:
    """The home and state pages name the ICE lists their numbers rest on (the archive's
    start and end, from the data); a section whose data is not loaded says so."""
    home = (await client.get("/")).text
    said = paragraph(home, "ice-sources")
    assert "the 54 lists in this archive, which starts 15 May 2025" in said
    assert "ends 11 Jul 2025" in said
    assert "on ICE's participating list of 11 Jul 2025" in home
    state = (await client.get("/states/PA")).text
    said = paragraph(state, "state-sources")
    assert "the 54 lists in this archive (15 May 2025 to 11 Jul 2025" in said
    assert "long before. Policy: no loaded source makes an assertion about Pennsylvania" in said
    assert 'id="no-detainers"' in state
    assert "No ICE detainer release is loaded" in state
    california = (await client.get("/states/CA")).text
    said = paragraph(california, "state-sources")
    assert BRIEF_TITLE in said
    assert "Justice Department" in said
    # No MOA document is loaded here: the agency page says so for the whole service.
    [agency] = (await client.get("/v1/agencies?state=PA&q=Butler County")).json()["data"]
    page = (await client.get(f"/agencies/{agency['id']}")).text
    assert 'id="no-documents"' in page
    assert "No MOA documents are loaded" in page


async def test_first_seen_at_the_archive_start_is_decided_per_agreement(
    loaded: None, engine: AsyncEngine
) -> None:
    """The archive's first lists are the pending one of 15 May and the participating one
    of 16 May: an agreement is "first seen at the start" only if it was on the first list
    of the kind that first carried it, never because its date is early enough."""
    from open287g.db.queries import timeline

    async with engine.connect() as conn:
        archive = await timeline.archive_start(conn)
        firsts = {
            int(r[0]): (r[1], r[2])
            for r in await conn.execute(
                text(
                    "SELECT DISTINCT ON (o.agreement_id) o.agreement_id, g.first_seen,"
                    " CAST(s.kind AS text) FROM agreement_observations o"
                    " JOIN snapshots s ON s.id = o.snapshot_id"
                    " JOIN agreements g ON g.id = o.agreement_id"
                    " ORDER BY o.agreement_id, s.published_on, s.kind"
                )
            )
        }
        at_start = await timeline.first_seen_at_start(conn, list(firsts))
    assert archive.first_of_kind == {
        "PENDING": dt.date(2025, 5, 15), "PARTICIPATING": dt.date(2025, 5, 16)}  # fmt: skip
    assert (archive.start, archive.end, archive.lists) == (
        dt.date(2025, 5, 15), dt.date(2025, 7, 11), 54)  # fmt: skip
    expected = {i for i, (day, kind) in firsts.items() if archive.first_of_kind[kind] == day}
    assert at_start == expected
    assert 0 < len(at_start) < len(firsts)


AGENCY_PLACEMENT = (
    '{{ agencies(first: 5, filter: {{state: "{state}", nameContains: "{name}"}}) {{ edges'
    " {{ node {{ id name placementMethod placementEvidence placementConflict"
    " jurisdiction {{ name kind }} }} }} }} }}"
)


async def _placed(client: httpx.AsyncClient, state: str, name: str) -> dict[str, Any]:
    edges = (await graphql(client, AGENCY_PLACEMENT.format(state=state, name=name)))[
        "agencies"]["edges"]  # fmt: skip
    named: list[dict[str, Any]] = [e["node"] for e in edges if e["node"]["name"] == name]
    [node] = named
    row = (await client.get(f"/v1/agencies/{node['id']}")).json()["data"]
    assert (row["placement_method"], row["placement_evidence"], row["placement_conflict"]) == (
        node["placementMethod"], node["placementEvidence"], node["placementConflict"])  # fmt: skip
    return node


async def test_every_agency_shows_how_it_was_placed(
    loaded: None, client: httpx.AsyncClient
) -> None:
    """An agency's placement is declared on Agency (both APIs) and shown on its page: the
    method, the evidence in words and any contradiction between ICE's cells."""
    okeechobee = await _placed(client, "FL", "Okeechobee Police Department")
    assert okeechobee["placementMethod"] == "AGENCY_NAME"
    assert "inside Okeechobee County (12093)" in okeechobee["placementEvidence"]
    assert okeechobee["placementConflict"].startswith("TYPE says County")
    alachua = await _placed(client, "FL", "Alachua Police Departent")
    assert (alachua["placementMethod"], alachua["jurisdiction"]["kind"]) == (
        "AGENCY_NAME", "PLACE")  # fmt: skip
    assert alachua["placementConflict"] is not None
    texarkana = await _placed(client, "AR", "Texarkana Police Department")
    assert texarkana["placementMethod"] == "OVERRIDE"
    assert "Miller County 05091" in texarkana["placementEvidence"]
    anderson = await _placed(client, "TX", "Anderson County Sheriff's Office")
    assert (anderson["placementMethod"], anderson["placementConflict"]) == ("COUNTY_CELL", None)
    assert anderson["placementEvidence"] == (
        "the COUNTY cell says Anderson County; the name agrees")  # fmt: skip
    # TYPE Municipality, but the name names no place: the COUNTY cell places it.
    arkansas = await _placed(client, "AR", "Arkansas State Police Department")
    assert (arkansas["placementMethod"], arkansas["jurisdiction"]["name"]) == (
        "COUNTY_CELL", "Pulaski County")  # fmt: skip
    fdle = await _placed(client, "FL", "Florida Department of Law Enforcement")
    assert (fdle["placementMethod"], fdle["jurisdiction"]["kind"]) == ("TYPE", "STATE")
    methods = (await client.get("/v1/agencies?limit=1000")).json()["data"]
    assert None not in {row["placement_method"] for row in methods}
    page = (await client.get(f"/agencies/{okeechobee['id']}")).text
    assert "Placed by</dt>" in page
    assert "the agency&#39;s own name" in page
    assert 'id="placement-conflict"' in page


async def test_stored_rows_are_placed_again_as_the_loader_placed_them(
    loaded: None, engine: AsyncEngine
) -> None:
    """Migration 0025 fills rows stored before placements were kept by the loader's own
    rules over the cells each row kept: on every stored row of the 54 lists, those rules
    give what the load stored."""
    from open287g.loaders.ice287g.counties import placement_overrides, placements_of

    async with engine.connect() as conn:
        stored = {
            (r[0], r[1], r[2], r[3]): (r[4], r[5], r[6])
            for r in await conn.execute(
                text(
                    "SELECT DISTINCT g.state_code, o.agency_name, CAST(o.agency_type AS text),"
                    " o.county, o.placement_method, o.placement_evidence, o.placement_conflict"
                    " FROM agreement_observations o JOIN agreements g ON g.id = o.agreement_id"
                )
            )
        }
        overrides = await placement_overrides(conn)
    assert len(stored) > 700
    assert placements_of(list(stored), overrides) == stored
