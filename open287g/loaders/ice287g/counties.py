"""Put every county an ICE row names on the gazetteer before anything is written.

A list names a county in its COUNTY column or in the agency's name (`Lafourche Parish
Sheriff's Office`). That name is matched to a real county of the row's state
(`db/gazetteer.py`); the row then carries the county's official name, so a
misspelling (`Frankin County`, AL) never becomes a jurisdiction of its own. A name that
matches no county of the state leaves the agency with its state only. Every guess and
every miss is reported in `load_issues`; exact matches are not (they are not defects).
"""

from __future__ import annotations

import dataclasses

from open287g.db.gazetteer import CountyMatch, match_county
from open287g.db.ingest.ice287g import StagedRow
from open287g.db.models.enums import JurisdictionKind
from open287g.loaders.ice287g.jurisdictions import JurisdictionRef, state_ref
from open287g.loaders.ice287g.parse import IceRow, ParsedSheet

COUNTY_COLUMN = "COUNTY"
AGENCY_COLUMN = "LAW ENFORCEMENT AGENCY"


def place_counties(parsed: ParsedSheet) -> list[StagedRow]:
    """The staged rows with gazetteer counties; repairs appended to `parsed.issues`."""
    cache: dict[tuple[str, str], CountyMatch | None] = {}
    staged: list[StagedRow] = []
    for row in parsed.rows:
        placed = _place(row, cache, parsed)
        staged.append(placed.staged())
    return staged


def _place(
    row: IceRow, cache: dict[tuple[str, str], CountyMatch | None], parsed: ParsedSheet
) -> IceRow:
    ref = row.jurisdiction
    if ref.kind is JurisdictionKind.COUNTY:
        return dataclasses.replace(row, jurisdiction=_real_county(row, ref, cache, parsed))
    if ref.parent is not None and ref.parent.kind is JurisdictionKind.COUNTY:
        parent = _real_county(row, ref.parent, cache, parsed)
        return dataclasses.replace(row, jurisdiction=dataclasses.replace(ref, parent=parent))
    return row


def _real_county(
    row: IceRow,
    ref: JurisdictionRef,
    cache: dict[tuple[str, str], CountyMatch | None],
    parsed: ParsedSheet,
) -> JurisdictionRef:
    """The gazetteer county `ref` names, or the state when it names none (reported)."""
    key = (ref.state_code, ref.name)
    if key not in cache:
        cache[key] = match_county(ref.state_code, ref.name)
    match = cache[key]
    column = COUNTY_COLUMN if row.county else AGENCY_COLUMN
    raw = row.county or ref.name
    if match is None:
        parsed.repaired(
            row.row_number,
            column,
            f"county not in the Census county list of {ref.state_code}; "
            "the agency keeps its state only",
            raw,
        )
        return state_ref(ref.state_code)
    county = match.county
    if match.method != "exact":
        parsed.repaired(row.row_number, column, describe_match(match), raw)
    return JurisdictionRef(JurisdictionKind.COUNTY, ref.state_code, county.name, ref.parent)


def describe_match(match: CountyMatch) -> str:
    """The reason text of a guessed county (one text per target, so reports group by it)."""
    county = match.county
    how = {
        "independent-city": "the independent city of that name",
        "similarity": f"closest name, similarity {match.score:g}",
        "transposed-letters": "the same letters in another order",
    }.get(match.method, match.method)
    return f"county read as {county.name}, {county.state_code} (FIPS {county.fips}; {how})"
