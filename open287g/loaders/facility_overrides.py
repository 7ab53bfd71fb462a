"""`open287g load facility-overrides SOURCE`: a small reviewed CSV that corrects where a
detainer facility is placed and which agency runs its jail (README "Detainers"), because
placement by name and city will sometimes be wrong — like lineage overrides.

Columns: `code` (detention_facility_code, e.g. ORANGCA), optional `county_fips` (five
digits), optional `agency` and `agency_state` (the agency's name as on ICE's lists, and its
state), `note` (why). The file is the whole reviewed list: loading it replaces the
overrides loaded before, and facilities are re-placed at once, in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.detainers import rematch_facilities
from open287g.db.ingest.provenance import IssueRecord, LoadCounts, record_updated
from open287g.loaders.csv_documents import CsvSource, ParsedCsv, counted, csv_records, rejected
from open287g.text import name_key

DATASET = "facility-overrides"
DETAINERS = "detainers"
REQUIRED = ("code",)
_FIPS = re.compile(r"^\d{5}$")


@dataclass(frozen=True)
class FacilityOverrideRow:
    row_number: int
    code: str
    county_fips: str | None
    agency: str | None
    agency_state: str | None
    note: str | None


def parse_facility_overrides_csv(label: str, data: bytes) -> ParsedCsv[FacilityOverrideRow]:
    parsed: ParsedCsv[FacilityOverrideRow] = ParsedCsv()
    for number, values in csv_records(label, data, REQUIRED):
        parsed.rows_read += 1
        code = (values["code"] or "").strip().upper()
        fips = (values.get("county_fips") or "").strip() or None
        agency = (values.get("agency") or "").strip() or None
        if not code:
            parsed.reject(number, "code", "required value missing")
            continue
        if fips is not None and not _FIPS.match(fips):
            parsed.reject(number, "county_fips", "a county FIPS code is five digits", fips)
            continue
        if fips is None and agency is None:
            parsed.reject(number, None, "a row overrides a county_fips, an agency or both")
            continue
        state = None
        if agency is not None:
            found = parsed.state(number, values.get("agency_state"))
            if found is None:
                continue
            state = found.usps
        parsed.rows.append(
            FacilityOverrideRow(number, code, fips, agency, state, values.get("note"))
        )
    return parsed


async def merge_facility_overrides(
    conn: AsyncConnection,
    run_id: int,
    rows: Sequence[FacilityOverrideRow],
    issues: list[IssueRecord],
) -> LoadCounts:
    """Replace the stored overrides and re-place the facilities; a row naming no county
    or no agency is rejected."""
    await conn.execute(text("DELETE FROM facility_overrides"))
    counts = LoadCounts()
    for row in rows:
        agency_id = None
        if row.agency is not None:
            agency_id = (
                await conn.execute(
                    text("SELECT id FROM agencies WHERE state_code = :s AND name_key = :k"),
                    {"s": row.agency_state, "k": name_key(row.agency)},
                )
            ).scalar_one_or_none()
            if agency_id is None:
                reason = f"no agency of that name in {row.agency_state}"
                issues.append(rejected(row.row_number, "agency", reason, row.agency))
                continue
        if row.county_fips is not None:
            county = await conn.execute(
                text("SELECT 1 FROM jurisdictions WHERE kind = 'COUNTY' AND fips = :f"),
                {"f": row.county_fips},
            )
            if county.first() is None:
                reason = "no county with that FIPS code"
                issues.append(rejected(row.row_number, "county_fips", reason, row.county_fips))
                continue
        await conn.execute(
            text(
                "INSERT INTO facility_overrides (load_run_id, row_number, code, county_fips,"
                " agency_id, note) VALUES (:run, :row, :code, :fips, :agency, :note)"
            ),
            {
                "run": run_id,
                "row": row.row_number,
                "code": row.code,
                "fips": row.county_fips,
                "agency": agency_id,
                "note": row.note,
            },
        )
        counts.inserted += 1
    return await record_updated(
        conn, run_id, counts, "detainer_facility", await rematch_facilities(conn)
    )


FACILITY_OVERRIDES = CsvSource(
    dataset=DATASET,
    parse=parse_facility_overrides_csv,
    merge=merge_facility_overrides,
    also_lock=(DETAINERS,),  # facilities are re-placed, as a detainer load does
    help="reviewed detainer facility placements: code, county_fips, agency (CSV)",
    description="Load a facility-overrides CSV (file or URL). It replaces the overrides "
    "loaded before; facilities are re-placed at once.",
    summary=counted("overrides applied", "facilities changed"),
)
