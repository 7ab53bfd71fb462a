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

from open287g.db.ingest.provenance import LoadCounts, record_changes
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
RETURNING source_file_id
"""

_INSERT_STATS = """
INSERT INTO detainer_stats (source_file_id, load_run_id, month, facility_id, outcome,
    criminality, citizenship, charge_category, count)
SELECT :release, :run, month, facility_id, CAST(outcome AS detainer_outcome), criminality,
       citizenship, charge_category, count
FROM stage_stat WHERE NOT (month = ANY(CAST(:skip_months AS date[])))
"""

# Conservative: a facility whose name gives a county ("HARRIS COUNTY JAIL") is matched to
# that county of its state when the county exists, and to the county's sheriff's office
# when exactly one such agency serves it. Anything else stays unmatched, with its state.
_REMATCH_FACILITIES = """
WITH matched AS (
    SELECT f.id, j.id AS jurisdiction_id,
           (SELECT CASE WHEN count(*) = 1 THEN min(a.id) END FROM agencies a
            WHERE a.jurisdiction_id = j.id AND a.type = 'COUNTY'
              AND a.name_key LIKE '%SHERIFF%') AS agency_id
    FROM detainer_facilities f
    LEFT JOIN jurisdictions j ON j.kind = 'COUNTY' AND j.state_code = f.state_code
                             AND j.name_key = f.county_key
)
UPDATE detainer_facilities f
SET jurisdiction_id = m.jurisdiction_id, agency_id = m.agency_id,
    match_method = CASE WHEN m.agency_id IS NOT NULL THEN 'county-name+sheriff'
                        WHEN m.jurisdiction_id IS NOT NULL THEN 'county-name' END
FROM matched m
WHERE f.id = m.id
  AND (f.jurisdiction_id, f.agency_id) IS DISTINCT FROM (m.jurisdiction_id, m.agency_id)
RETURNING f.id
"""


async def rematch_facilities(conn: AsyncConnection) -> list[int]:
    """Re-run facility matching; the ICE loader calls this too, as agencies arrive later."""
    return list((await conn.execute(text(_REMATCH_FACILITIES))).scalars())


async def write_release(
    conn: AsyncConnection, release: ReleaseWrite, stats: Sequence[StatRow]
) -> LoadCounts:
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
    if release.fill_gaps:
        skip = list((await conn.execute(text(_MONTHS_HELD_ELSEWHERE), params)).scalars())
    else:
        replaced = list((await conn.execute(text(_REPLACE_MONTHS), params)).scalars())
        counts.updated = len(replaced)
        superseded = set(replaced)
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
        conn, run, "detainer_facility", [*new_facilities, *rematched], ChangeOp.UPSERT
    )
    await record_changes(
        conn, run, "detainer_release", {release.source_file_id} | superseded, ChangeOp.UPSERT
    )
    return counts
