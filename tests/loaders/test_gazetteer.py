"""Counties are real places: the gazetteer, the ICE loader's county placement on the 54
real snapshots, and the re-match of counties stored before the gazetteer existed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.db.gazetteer import counties_by_state, county_by_fips, match_county
from open287g.db.reference_data import STATES
from open287g.loaders.ice287g.rematch import rematch_counties
from tests.support.fixtures import ICE_DIR, rest_and_graphql
from tests.support.snapshots import database_url

__all__ = ["database_url"]  # this module's database: a copy of the ICE template

MISSPELLED = {
    ("AL", "Frankin County"): ("Franklin County", "01059"),
    ("AR", "Layafette County"): ("Lafayette County", "05073"),
    ("SC", "McCorkmick County"): ("McCormick County", "45065"),
}


def test_gazetteer_covers_every_state_with_census_fips() -> None:
    by_state = counties_by_state()
    for state in STATES:
        counties = by_state[state.usps]
        assert counties, state
        assert all(c.fips.startswith(state.fips) and len(c.fips) == 5 for c in counties.values())
    # 3,143 counties and equivalents in the 50 states and DC (Census 2020 list).
    assert sum(len(by_state[s.usps]) for s in STATES) >= 3140
    assert county_by_fips()["22057"].name == "Lafourche Parish"
    assert county_by_fips()["51740"].name == "Portsmouth city"


@pytest.mark.parametrize(
    ("state", "name", "expected", "method"),
    [
        ("LA", "Lafourche County", "Lafourche Parish", "exact"),
        ("FL", "Saint Johns", "St. Johns County", "exact"),
        ("FL", "miami dade county", "Miami-Dade County", "exact"),
        ("IN", "De Kalb County", "DeKalb County", "exact"),
        ("NM", "Dona Ana", "Doña Ana County", "exact"),
        ("AK", "Juneau", "Juneau City and Borough", "exact"),
        ("MD", "Baltimore City", "Baltimore city", "exact"),
        ("MD", "Baltimore", "Baltimore County", "exact"),
        ("VA", "Portsmouth County", "Portsmouth city", "independent-city"),
        ("AL", "Frankin County", "Franklin County", "similarity"),
        ("SC", "McCorkmick County", "McCormick County", "similarity"),
        ("AR", "Layafette County", "Lafayette County", "transposed-letters"),
    ],
)
def test_a_county_name_is_matched_to_a_real_county(
    state: str, name: str, expected: str, method: str
) -> None:
    match = match_county(state, name)
    assert match is not None
    assert (match.county.name, match.method) == (expected, method)


@pytest.mark.parametrize(
    ("state", "name"),
    [
        ("AR", "Bowie County"),  # a Texas county
        ("NC", "Albemarle County"),  # a city in NC, a county in VA
        ("LA", "German Coast County"),  # a historical region
        ("TX", "Harriso County"),  # as close to Harris as to Harrison: never guessed
        ("TX", ""),
    ],
)
def test_no_county_is_guessed_without_a_clear_match(state: str, name: str) -> None:
    assert match_county(state, name) is None


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine) -> None:
    """The module's database holds the 54 snapshots already (the ICE template)."""
    if not ICE_DIR.is_dir():
        pytest.skip(f"{ICE_DIR} not present")


async def test_real_snapshots_make_no_county_from_a_misspelling(
    loaded: None, engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        counties = (
            await conn.execute(
                text("SELECT state_code, name, fips FROM jurisdictions WHERE kind = 'COUNTY'")
            )
        ).all()
        placed = {
            (row[0], row[1]): (row[2], row[3])
            for row in await conn.execute(
                text(
                    "SELECT a.state_code, a.county, j.name, j.fips FROM agencies a"
                    " JOIN jurisdictions j ON j.id = a.jurisdiction_id WHERE a.county IS NOT NULL"
                )
            )
        }
        observed = {
            (row[0], row[1], row[2], row[3])
            for row in await conn.execute(
                text(
                    "SELECT g.state_code, o.county, j.name, j.fips FROM agreement_observations o"
                    " JOIN agreements g ON g.id = o.agreement_id"
                    " JOIN jurisdictions j ON j.id = o.jurisdiction_id WHERE o.county IS NOT NULL"
                )
            )
        }
        reasons: dict[str, str] = dict(
            (
                await conn.execute(
                    text(
                        "SELECT value, min(reason) FROM load_issues"
                        " WHERE reason LIKE 'county %' OR reason LIKE 'placement: %'"
                        " GROUP BY value"
                    )
                )
            ).all()
        )
    assert counties
    assert all(fips for _, _, fips in counties)
    names = {(state, name) for state, name, _ in counties}
    for (state, wrong), (real, fips) in MISSPELLED.items():
        assert (state, wrong) not in names
        assert (state, real, fips) in {tuple(row) for row in counties}
        assert f"FIPS {fips}" in reasons[wrong]
    assert placed[("AR", "Layafette County")] == ("Lafayette County", "05073")
    assert placed[("SC", "McCorkmick County")] == ("McCormick County", "45065")
    # Every row that wrote a misspelled county was placed in the real one.
    for (state, wrong), (real, fips) in MISSPELLED.items():
        assert {(r[2], r[3]) for r in observed if r[:2] == (state, wrong)} == {(real, fips)}
    # A county that names no county of its state is corrected by a reviewed override
    # (migration 0019): the Albemarle District Jail is Pasquotank's (and serves two more).
    assert placed[("NC", "Albemarle County")] == ("Pasquotank County", "37139")
    assert "reviewed override" in reasons["Albemarle County"]
    assert "Camden County 37029, Perquimans County 37143" in reasons["Albemarle County"]
    # Every county is one of the gazetteer's, by name and FIPS.
    gazetteer = county_by_fips()
    assert all(gazetteer[fips].name == name for _, name, fips in counties)


async def test_every_county_has_its_fips_in_both_apis(loaded: None, engine: AsyncEngine) -> None:
    rest, graphql = await rest_and_graphql(
        engine,
        "/v1/jurisdictions?kind=COUNTY&state=SC&limit=1000",
        '{ jurisdictions(first: 100, filter: {kind: COUNTY, state: "AR"})'
        " { edges { node { name fips } } } }",
    )
    sc = {row["name"]: row["fips"] for row in rest["data"]}
    assert sc["McCormick County"] == "45065"
    assert all(sc.values())
    ar = {e["node"]["name"]: e["node"]["fips"] for e in graphql["data"]["jurisdictions"]["edges"]}
    assert ar["Lafayette County"] == "05073"
    assert all(ar.values())


async def test_counties_stored_before_the_gazetteer_are_rematched(conn: AsyncConnection) -> None:
    """What the migration does to an old database: merge, rename, or hand to the state."""

    async def county(name: str, state: str = "HI") -> int:
        return int(
            (
                await conn.execute(
                    text(
                        "INSERT INTO jurisdictions (kind, name, name_key, state_code, parent_id)"
                        " SELECT 'COUNTY', :n, upper(:n), :s, id FROM jurisdictions"
                        " WHERE kind = 'STATE' AND state_code = :s RETURNING id"
                    ),
                    {"n": name, "s": state},
                )
            ).scalar_one()
        )

    async def agency(name: str, jurisdiction: int, state: str = "HI") -> int:
        return int(
            (
                await conn.execute(
                    text(
                        "INSERT INTO agencies (state_code, name, name_key, type, county,"
                        " jurisdiction_id) VALUES (:s, :n, upper(:n), 'COUNTY', NULL, :j)"
                        " RETURNING id"
                    ),
                    {"n": name, "s": state, "j": jurisdiction},
                )
            ).scalar_one()
        )

    real = int(  # no 287(g) agency in Hawaii, yet every county exists (migration 0015)
        (
            await conn.execute(
                text("SELECT id FROM jurisdictions WHERE kind = 'COUNTY' AND fips = '15003'")
            )
        ).scalar_one()
    )
    typo = await county("Honolul")
    nowhere = await county("Bowie", "AR")
    on_typo = await agency("Honolul County Sheriff", typo)
    on_nowhere = await agency("Bowie County Sheriff", nowhere, "AR")
    result = await conn.run_sync(rematch_counties)
    assert result.merged == {typo: real}
    assert result.removed_jurisdictions == {typo, nowhere}
    rows: dict[int, int] = dict(
        (
            await conn.execute(
                text("SELECT id, jurisdiction_id FROM agencies WHERE id IN (:a, :b)"),
                {"a": on_typo, "b": on_nowhere},
            )
        ).all()
    )
    arkansas = (
        await conn.execute(
            text("SELECT id FROM jurisdictions WHERE kind='STATE' AND state_code='AR'")
        )
    ).scalar_one()
    assert rows == {on_typo: real, on_nowhere: arkansas}
    name, fips = (
        await conn.execute(text("SELECT name, fips FROM jurisdictions WHERE id = :i"), {"i": real})
    ).one()
    assert (name, fips) == ("Honolulu County", "15003")
    tombstones = set(
        (
            await conn.execute(
                text(
                    "SELECT entity_id FROM changes WHERE entity = 'jurisdiction' AND op = 'DELETE'"
                )
            )
        ).scalars()
    )
    assert {typo, nowhere} <= tombstones
    # Idempotent: nothing is left without a FIPS code that could be matched.
    again = await conn.run_sync(rematch_counties)
    assert (again.exact, again.similar, again.merged) == (0, 0, {})
