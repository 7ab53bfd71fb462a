"""Re-match the county jurisdictions already stored to the gazetteer.

Databases loaded before the gazetteer hold counties made from names typed in
spreadsheets (`Frankin County`, AL; `Layafette County`, AR; `McCorkmick County`, SC) and
no FIPS codes. `rematch_counties` plans, for every stored county, the real county it
means (or none), and `db/ingest/counties.py` applies the plan: misspelled counties are
merged into the real one, the rest renamed to the official name with their FIPS code,
and counties that name no real county of their state hand their agencies to the state.
The migration that introduced the gazetteer runs it; it is idempotent.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from open287g.db.gazetteer import match_county
from open287g.db.ingest.counties import (
    CountyTarget,
    RematchResult,
    apply_county_targets,
    stored_counties,
)
from open287g.db.models.enums import JurisdictionKind
from open287g.loaders.ice287g.jurisdictions import jurisdiction_key


def county_target(state_code: str, name: str) -> CountyTarget | None:
    """The gazetteer county a stored name means, with the key jurisdictions use."""
    match = match_county(state_code, name)
    if match is None:
        return None
    county = match.county
    return CountyTarget(
        county.name,
        jurisdiction_key(JurisdictionKind.COUNTY, county.name),
        county.fips,
        match.method,
        match.score,
    )


def rematch_counties(conn: Connection, run_id: int | None = None) -> RematchResult:
    """Plan and apply (synchronous: the migration calls it; loads use run_sync, passing
    their run so the change feed names it)."""
    plan = {row.id: county_target(row.state_code, row.name) for row in stored_counties(conn)}
    return apply_county_targets(conn, plan, run_id)
