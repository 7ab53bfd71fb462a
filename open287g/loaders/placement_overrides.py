"""`open287g load placement-overrides SOURCE`: a small reviewed CSV that places agencies
whose ICE cells are wrong (README "Places"), as lineage overrides correct renames.

Columns: `state`, `agency` (as on ICE's lists; case, spacing and punctuation do not
matter), `county_fips` (the counties it serves, separated by `;` or spaces, the first its
own), optional `place` (the city or town inside the first county) and `note` (the
evidence). The file replaces the overrides loaded before; the reviewed ones that come
with the schema (migration 0019) stay unless the file places the same agency. Stored
agencies move at once; later ICE loads place every row of theirs the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.gazetteer import county_by_fips
from open287g.db.ingest.provenance import IssueRecord, LoadCounts, lock_dataset, record_changes
from open287g.db.models.enums import ChangeOp, JurisdictionKind
from open287g.loaders.csv_documents import CsvSource, ParsedCsv, counted, csv_records
from open287g.loaders.ice287g.counties import (
    PlacementOverride,
    override_evidence,
    placement_overrides,
)
from open287g.loaders.ice287g.jurisdictions import jurisdiction_key
from open287g.text import name_key

DATASET = "placement-overrides"
REQUIRED = ("state", "agency", "county_fips")
ICE_DATASET = "ice-287g"
_SEPARATORS = re.compile(r"[;,|\s]+")


@dataclass(frozen=True)
class OverrideRow:
    row_number: int
    state_code: str
    agency: str
    county_fips: tuple[str, ...]
    place: str | None
    note: str | None


def parse_placement_csv(label: str, data: bytes) -> ParsedCsv[OverrideRow]:
    parsed: ParsedCsv[OverrideRow] = ParsedCsv()
    counties = county_by_fips()
    for number, values in csv_records(label, data, REQUIRED):
        parsed.rows_read += 1
        state = parsed.state(number, values["state"])
        if state is None:
            continue
        agency = values["agency"]
        if not agency:
            parsed.reject(number, "agency", "required value missing")
            continue
        fips = tuple(f for f in _SEPARATORS.split(values["county_fips"] or "") if f)
        wrong = [f for f in fips if f not in counties or counties[f].state_code != state.usps]
        if not fips or wrong:
            reason = f"not a county FIPS code of {state.usps}" if fips else "no county FIPS"
            parsed.reject(number, "county_fips", reason, values["county_fips"])
            continue
        parsed.rows.append(
            OverrideRow(number, state.usps, agency, fips, values.get("place"), values.get("note"))
        )
    return parsed


_MOVE = """
WITH target AS (
    SELECT a.id FROM agencies a WHERE a.state_code = :state AND a.name_key = :key
), observed AS (
    UPDATE agreement_observations o SET jurisdiction_id = :target,
        placement_method = 'OVERRIDE', placement_evidence = :evidence
    FROM agreements g WHERE g.id = o.agreement_id AND g.agency_id IN (SELECT id FROM target)
      AND (o.jurisdiction_id, o.placement_method, o.placement_evidence)
          IS DISTINCT FROM (:target, 'OVERRIDE', :evidence)
    RETURNING o.agreement_id
)
UPDATE agencies a SET jurisdiction_id = :target, placement_method = 'OVERRIDE',
    placement_evidence = :evidence, updated_at = now()
WHERE a.id IN (SELECT id FROM target)
  AND (a.jurisdiction_id, a.placement_method, a.placement_evidence)
      IS DISTINCT FROM (:target, 'OVERRIDE', :evidence)
RETURNING a.id
"""


async def _target(
    conn: AsyncConnection, state: str, override: PlacementOverride
) -> tuple[int, list[int]]:
    """(the jurisdiction the override names, the jurisdictions it created or moved)."""
    county = (
        await conn.execute(
            text("SELECT id FROM jurisdictions WHERE kind = 'COUNTY' AND fips = :f"),
            {"f": override.county_fips[0]},
        )
    ).scalar_one()
    if not override.place:
        return int(county), []
    key = jurisdiction_key(JurisdictionKind.PLACE, override.place)
    row = (
        await conn.execute(
            text(
                "INSERT INTO jurisdictions (kind, name, name_key, state_code, parent_id)"
                " VALUES ('PLACE', :name, :key, :state, :county)"
                " ON CONFLICT (kind, state_code, name_key) DO UPDATE SET parent_id = :county"
                " WHERE jurisdictions.parent_id IS DISTINCT FROM :county RETURNING id"
            ),
            {"name": override.place, "key": key, "state": state, "county": county},
        )
    ).scalar_one_or_none()
    if row is not None:
        return int(row), [int(row)]
    place = (
        await conn.execute(
            text(
                "SELECT id FROM jurisdictions WHERE kind = 'PLACE' AND state_code = :s"
                " AND name_key = :k"
            ),
            {"s": state, "k": key},
        )
    ).scalar_one()
    return int(place), []


async def apply_overrides(conn: AsyncConnection, run_id: int | None) -> set[int]:
    """Move every stored agency an override names (and its list rows); the agencies moved."""
    moved: set[int] = set()
    touched: list[int] = []
    for (state, key), override in (await placement_overrides(conn)).items():
        target, jurisdictions = await _target(conn, state, override)
        touched += jurisdictions
        result = await conn.execute(
            text(_MOVE),
            {"state": state, "key": key, "target": target,
             "evidence": override_evidence(override)},
        )  # fmt: skip
        moved.update(int(i) for i in result.scalars())
    await record_changes(conn, run_id, "jurisdiction", touched, ChangeOp.UPSERT)
    await record_changes(conn, run_id, "agency", sorted(moved), ChangeOp.UPSERT)
    return moved


async def merge_placements(
    conn: AsyncConnection, run_id: int, rows: Sequence[OverrideRow], issues: list[IssueRecord]
) -> LoadCounts:
    await lock_dataset(conn, ICE_DATASET)  # held already (`also_lock`): ICE loads place too
    await conn.execute(text("DELETE FROM placement_overrides WHERE load_run_id IS NOT NULL"))
    counts = LoadCounts()
    for row in rows:
        await conn.execute(
            text(
                "INSERT INTO placement_overrides (load_run_id, row_number, state_code,"
                " agency_key, agency_name, county_fips, place, note)"
                " VALUES (:run, :row, :state, :key, :name, :fips, :place, :note)"
            ),
            {
                "run": run_id, "row": row.row_number, "state": row.state_code,
                "key": name_key(row.agency), "name": row.agency, "fips": list(row.county_fips),
                "place": row.place, "note": row.note,
            },
        )  # fmt: skip
        counts.inserted += 1
    counts.updated = len(await apply_overrides(conn, run_id))
    return counts


PLACEMENT_OVERRIDES = CsvSource(
    dataset=DATASET,
    parse=parse_placement_csv,
    merge=merge_placements,
    also_lock=(ICE_DATASET,),  # before the change-sequence lock, as an ICE load does
    help="reviewed placements: the county (and place) of agencies ICE misplaces (CSV)",
    description="Load a placement-overrides CSV (file or URL). It replaces the overrides "
    "loaded before; stored agencies move at once.",
    summary=counted("overrides", "agencies moved"),
)
