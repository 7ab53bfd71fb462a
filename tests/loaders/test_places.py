"""Places that exist (#21): every US county and county-equivalent is a jurisdiction with
its FIPS code, whether or not ICE names it, and has a page."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.gazetteer import county_by_fips
from open287g.db.reference_data import STATES
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.placement_overrides import PLACEMENT_OVERRIDES
from open287g.loaders.sources import SourceDocument
from tests.support.fixtures import ice_xlsx, rest_and_graphql


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
    rest, graphql = await rest_and_graphql(
        engine,
        "/v1/jurisdictions?kind=COUNTY&state=TX&limit=1000",
        '{ jurisdictions(first: 100, filter: {kind: COUNTY, state: "LA", nameContains:'
        ' "Charles"}) { edges { node { name fips kind } } } }',
    )
    texas = {row["name"]: row["fips"] for row in rest["data"]}
    assert len(texas) == 254
    assert texas["Harris County"] == "48201"
    edges = graphql["data"]["jurisdictions"]["edges"]
    assert [e["node"] for e in edges] == [
        {"name": "St. Charles Parish", "fips": "22089", "kind": "COUNTY"}
    ]


async def _placed(conn: AsyncConnection, name: str) -> tuple[str, str, str | None]:
    row = (
        await conn.execute(
            text(
                "SELECT CAST(j.kind AS text), j.name, c.fips FROM agencies a"
                " JOIN jurisdictions j ON j.id = a.jurisdiction_id"
                " LEFT JOIN jurisdictions c ON c.id = j.parent_id WHERE a.name = :n"
            ),
            {"n": name},
        )
    ).one()
    return str(row[0]), str(row[1]), row[2]


async def _placement(conn: AsyncConnection, name: str) -> tuple[str, str]:
    """The agency's stored placement: (method, evidence)."""
    row = (
        await conn.execute(
            text("SELECT placement_method, placement_evidence FROM agencies WHERE name = :n"),
            {"n": name},
        )
    ).one()
    return str(row[0]), str(row[1])


async def test_placement_overrides_move_stored_agencies_and_later_rows(
    conn: AsyncConnection, tmp_path: Path
) -> None:
    row = ("ARKANSAS", "Fouke Police Department", "Municipality", "Bowie County",
           "Task Force Model", "03/01/2025")  # fmt: skip
    first = tmp_path / "participatingAgencies03022025am.xlsx"
    first.write_bytes(ice_xlsx([row]))
    await load_sources(conn, plan_sources([str(first)]), Settings())
    # Bowie is a Texas county: the place is left in its state, and the miss reported.
    assert await _placed(conn, "Fouke Police Department") == ("PLACE", "Fouke", "05")
    assert await _placement(conn, "Fouke Police Department") == (
        "AGENCY_NAME",
        "the name names the place Fouke, in Bowie County (the COUNTY cell); 'Bowie County' "
        "is not a county in the Census county list of AR, so no county is known",
    )
    overrides = (
        "state,agency,county_fips,place,note\n"
        "AR,fouke police department,05091,Fouke,Fouke is in Miller County\n"
        "AR,Another PD,48201,,a Texas county\n"
        "AR,Third PD,,,\n"
    )
    run_id, counts = await PLACEMENT_OVERRIDES.load(
        conn, SourceDocument("placements.csv", overrides.encode())
    )
    # The agency stays on its place, which moved into Miller County; its placement is
    # the override's now (an update of its record).
    assert (counts.inserted, counts.rejected, counts.updated) == (1, 2, 1)
    assert await _placed(conn, "Fouke Police Department") == ("PLACE", "Fouke", "05091")
    reviewed = ("OVERRIDE", "reviewed override: placed in Fouke (Miller County 05091); Fouke "
                "is in Miller County")  # fmt: skip
    assert await _placement(conn, "Fouke Police Department") == reviewed
    reasons = (
        await conn.execute(
            text('SELECT "column", reason FROM load_issues WHERE load_run_id = :r ORDER BY 1'),
            {"r": run_id},
        )
    ).all()
    assert [tuple(r) for r in reasons] == [
        ("county_fips", "not a county FIPS code of AR"),
        ("county_fips", "no county FIPS"),
    ]
    second = tmp_path / "participatingAgencies03092025am.xlsx"
    second.write_bytes(ice_xlsx([(*row[:5], "03/02/2025")]))  # new bytes: a new list
    [result] = await load_sources(conn, plan_sources([str(second)]), Settings())
    assert await _placed(conn, "Fouke Police Department") == ("PLACE", "Fouke", "05091")
    said = (
        await conn.execute(
            text("SELECT reason FROM load_issues WHERE load_run_id = :r"),
            {"r": result.load_run_id},
        )
    ).scalars()
    assert any(r.startswith("placement: reviewed override: placed in Fouke") for r in said)
    assert await _placement(conn, "Fouke Police Department") == reviewed


@pytest.mark.parametrize(
    ("state", "agency", "county", "expected"),
    [
        # The name's county over a COUNTY cell naming another real county (both real lists).
        ("PA", "Bradford County Sheriff's Office", "Bedford County", "Bradford County"),
        ("TN", "Madison County Sheriff's Office", "Macon County", "Madison County"),
        ("NY", "Nassau County Police Department", "Nassau County", "Nassau County"),
    ],
)
def test_the_name_outweighs_a_contradicting_county_cell(
    state: str, agency: str, county: str, expected: str
) -> None:
    from open287g.db.models.enums import AgencyType
    from open287g.loaders.ice287g.jurisdictions import agency_jurisdiction

    ref = agency_jurisdiction(state, agency, AgencyType.COUNTY, county)
    assert ref.name == expected
    assert (ref.conflict is not None) == (county != expected)
