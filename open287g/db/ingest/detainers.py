"""Write one detainer release's aggregates, and match facilities to jurisdictions.

A release replaces, for every month it covers, what earlier releases said about that month
(the newest load wins; `fill_gaps` keeps existing months instead). So two releases with
overlapping months never double count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db import gazetteer
from open287g.db.ingest.provenance import LoadCounts, record_changes
from open287g.db.ingest.removed import IDS, Removal
from open287g.db.models.enums import ChangeOp


class FacilityRow(NamedTuple):
    code: str
    name: str
    name_key: str
    city: str | None
    state_code: str
    county_key: str | None


class StatRow(NamedTuple):
    month: dt.date
    facility: FacilityRow
    outcome: str
    criminality: str
    citizenship: str
    charge_category: str
    detainers: int


@dataclass(frozen=True)
class ReleaseWrite:
    source_file_id: int
    load_run_id: int
    fill_gaps: bool = False
    coverage_start: dt.date | None = None  # the first detainer date of its rows
    coverage_end: dt.date | None = None  # the last (a month it ends inside is partial)


_STAGE_FACILITIES = """
CREATE TEMPORARY TABLE stage_facility (
    code text, name text, name_key text, city text, state_code text, county_key text
) ON COMMIT DROP
"""

_UPSERT_FACILITIES = """
INSERT INTO detainer_facilities (code, name, name_key, city, state_code, county_key)
SELECT DISTINCT ON (state_code, name_key, code) code, name, name_key, city, state_code, county_key
FROM stage_facility ORDER BY state_code, name_key, code, name
ON CONFLICT (state_code, name_key, code) DO NOTHING
RETURNING id
"""

_FACILITY_IDS = """
SELECT f.id, f.state_code, f.name_key, f.code FROM detainer_facilities f
JOIN stage_facility s ON s.state_code = f.state_code AND s.name_key = f.name_key
                     AND s.code = f.code
"""

_STAGE_STATS = """
CREATE TEMPORARY TABLE stage_stat (
    month date, facility_id bigint, outcome text, criminality text, citizenship text,
    charge_category text, count int
) ON COMMIT DROP
"""

_MONTHS_HELD_ELSEWHERE = """
SELECT DISTINCT month FROM detainer_stats
WHERE month = ANY(CAST(:months AS date[])) AND source_file_id <> :release
"""

_REPLACE_MONTHS = """
DELETE FROM detainer_stats
WHERE month = ANY(CAST(:months AS date[])) AND source_file_id <> :release
RETURNING source_file_id, facility_id
"""

_INSERT_STATS = """
INSERT INTO detainer_stats (source_file_id, load_run_id, month, facility_id, outcome,
    criminality, citizenship, charge_category, count)
SELECT :release, :run, month, facility_id, CAST(outcome AS detainer_outcome), criminality,
       citizenship, charge_category, count
FROM stage_stat WHERE NOT (month = ANY(CAST(:skip_months AS date[])))
"""

_FACILITIES = """
SELECT id, code, state_code, name, city, county_key, jurisdiction_id, agency_id, county_fips,
       placement_method, placement_score, agency_method, agency_score
FROM detainer_facilities ORDER BY id
"""

# Counties by FIPS, and each county's sheriff's office when it has exactly one.
_COUNTIES = """
SELECT j.fips, j.id,
       (SELECT CASE WHEN count(*) = 1 THEN min(a.id) END FROM agencies a
        WHERE a.jurisdiction_id = j.id AND a.type = 'COUNTY'
          AND a.name_key LIKE '%SHERIFF%') AS sheriff
FROM jurisdictions j WHERE j.kind = 'COUNTY' AND j.fips = ANY(CAST(:fips AS text[]))
"""

_PLACE = """
UPDATE detainer_facilities
SET jurisdiction_id = :jurisdiction_id, agency_id = :agency_id, match_method = :match_method,
    county_fips = :county_fips, placement_method = :placement_method,
    placement_score = :placement_score, agency_method = :agency_method,
    agency_score = :agency_score
WHERE id = :id
"""


class Placement(NamedTuple):
    """Where a facility is, and who runs it, with how each was found (README "Detainers")."""

    county_fips: str | None
    placement_method: str | None
    placement_score: float | None


def place_facility(state_code: str | None, county_key: str | None, city: str | None) -> Placement:
    """The county a facility is in: the county its name gives ("HARRIS COUNTY JAIL"),
    matched by the gazetteer (exact, independent city, similarity…), else the county its
    city lies in (the gazetteer's places, or a city that is itself a county: QUEENS)."""
    if not state_code:
        return Placement(None, None, None)
    if county_key:
        found = gazetteer.match_county(state_code, county_key)
        if found is not None:
            return Placement(found.county.fips, f"facility-name:{found.method}", found.score)
    if city:
        county = gazetteer.county_of_place(state_code, city)
        if county is not None:
            return Placement(county.fips, "facility-city", 100.0)
        found = gazetteer.match_county(state_code, city)
        if found is not None and found.method == "exact":
            return Placement(found.county.fips, "facility-city:county-named", found.score)
    return Placement(None, None, None)


_OVERRIDES = "SELECT code, county_fips, agency_id FROM facility_overrides"


async def rematch_facilities(conn: AsyncConnection) -> list[int]:
    """Place every facility in its county and link it to the county's sheriff's office
    when that county has exactly one (the agency running the jail); a reviewed override
    (facility-overrides CSV) wins over either. Returns the ids whose placement or link
    changed. The ICE loader calls this too, as agencies arrive later."""
    facilities = (await conn.execute(text(_FACILITIES))).all()
    overrides = {
        code: (fips, agency) for code, fips, agency in await conn.execute(text(_OVERRIDES))
    }
    placements = {f.id: place_facility(f.state_code, f.county_key, f.city) for f in facilities}
    for f in facilities:
        fips = overrides.get(f.code, (None, None))[0]
        if fips:
            placements[f.id] = Placement(fips, "override", 100.0)
    wanted = sorted({p.county_fips for p in placements.values() if p.county_fips})
    counties = {
        fips: (jurisdiction, sheriff)
        for fips, jurisdiction, sheriff in await conn.execute(text(_COUNTIES), {"fips": wanted})
    }
    changed = []
    for f in facilities:
        place = placements[f.id]
        jurisdiction, sheriff = counties.get(place.county_fips or "", (None, None))
        method = "county-sheriff" if sheriff else None
        score = place.placement_score if sheriff else None
        agency = overrides.get(f.code, (None, None))[1]
        if agency is not None:
            sheriff, method, score = agency, "override", 100.0
        row = {
            "id": f.id,
            "jurisdiction_id": jurisdiction,
            "agency_id": sheriff,
            "match_method": "county+sheriff" if sheriff else ("county" if jurisdiction else None),
            "county_fips": place.county_fips,
            "placement_method": place.placement_method,
            "placement_score": place.placement_score,
            "agency_method": method,
            "agency_score": score,
        }
        before = (f.jurisdiction_id, f.agency_id, f.county_fips, f.placement_method,
                  f.placement_score, f.agency_method, f.agency_score)  # fmt: skip
        after = tuple(row[k] for k in (
            "jurisdiction_id", "agency_id", "county_fips", "placement_method",
            "placement_score", "agency_method", "agency_score"))  # fmt: skip
        if before != after:
            await conn.execute(text(_PLACE), row)
            changed.append(f.id)
    return changed


async def write_release(
    conn: AsyncConnection, release: ReleaseWrite, stats: Sequence[StatRow]
) -> LoadCounts:
    await conn.execute(
        text("UPDATE source_files SET coverage_start = :start, coverage_end = :end WHERE id = :id"),
        {
            "start": release.coverage_start,
            "end": release.coverage_end,
            "id": release.source_file_id,
        },
    )
    raw = (await conn.get_raw_connection()).driver_connection
    await conn.execute(text(_STAGE_FACILITIES))
    facilities = {stat.facility for stat in stats}
    await raw.copy_records_to_table(  # type: ignore[union-attr]
        "stage_facility", columns=FacilityRow._fields, records=list(facilities)
    )
    new_facilities = list((await conn.execute(text(_UPSERT_FACILITIES))).scalars())
    ids = {
        (state, key, code): facility_id
        for facility_id, state, key, code in await conn.execute(text(_FACILITY_IDS))
    }
    await conn.execute(text(_STAGE_STATS))
    await raw.copy_records_to_table(  # type: ignore[union-attr]
        "stage_stat",
        columns=["month", "facility_id", "outcome", "criminality", "citizenship",
                 "charge_category", "count"],
        records=[
            (s.month, ids[(s.facility.state_code, s.facility.name_key, s.facility.code)],
             s.outcome, s.criminality, s.citizenship, s.charge_category, s.detainers)
            for s in stats
        ],
    )  # fmt: skip
    months = sorted({stat.month for stat in stats})
    params = {"months": months, "release": release.source_file_id}
    counts = LoadCounts()
    skip: list[dt.date] = []
    superseded: set[int] = set()
    # Facilities whose totals (a column of their /v1/facilities row) this release changes.
    totals_changed = set(ids.values())
    if release.fill_gaps:
        skip = list((await conn.execute(text(_MONTHS_HELD_ELSEWHERE), params)).scalars())
    else:
        replaced = (await conn.execute(text(_REPLACE_MONTHS), params)).all()
        counts.updated = len(replaced)
        superseded = {file_id for file_id, _ in replaced}
        totals_changed |= {facility_id for _, facility_id in replaced}
    result = await conn.execute(
        text(_INSERT_STATS),
        {"release": release.source_file_id, "run": release.load_run_id, "skip_months": skip},
    )
    counts.inserted = result.rowcount
    counts.unchanged = sum(1 for stat in stats if stat.month in set(skip))
    await conn.execute(text("DROP TABLE stage_stat"))
    await conn.execute(text("DROP TABLE stage_facility"))
    rematched = await rematch_facilities(conn)
    run = release.load_run_id
    await record_changes(
        conn,
        run,
        "detainer_facility",
        sorted({*new_facilities, *rematched, *totals_changed}),
        ChangeOp.UPSERT,
    )
    await record_changes(
        conn, run, "detainer_release", {release.source_file_id} | superseded, ChangeOp.UPSERT
    )
    return counts


async def remove_releases(removal: Removal) -> None:
    """The removal of detainer releases: their cells, and the facilities no release
    mentions any more (the others' totals changed: re-emitted)."""
    facilities = await removal.ids(
        f"DELETE FROM detainer_stats WHERE source_file_id = ANY({IDS}) RETURNING facility_id",
        ids=removal.files,
    )
    removal.gone(
        "detainer_facility",
        await removal.ids(
            f"DELETE FROM detainer_facilities f WHERE f.id = ANY({IDS}) AND NOT EXISTS"
            " (SELECT 1 FROM detainer_stats s WHERE s.facility_id = f.id) RETURNING f.id",
            ids=sorted(set(facilities)),
        ),
    )
    removal.facilities |= set(facilities)
