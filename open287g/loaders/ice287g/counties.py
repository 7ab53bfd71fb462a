"""Put every county an ICE row names on the gazetteer before anything is written.

A list names a county in its COUNTY column or in the agency's name (`Lafourche Parish
Sheriff's Office`). That name is matched to a real county of the row's state
(`db/gazetteer.py`); the row then carries the county's official name, so a
misspelling (`Frankin County`, AL) never becomes a jurisdiction of its own. A name that
matches no county of the state leaves the agency with its state only. Every guess and
every miss is reported in `load_issues`; exact matches are not (they are not defects).

Placement evidence beyond the cells (issue #21), each reported with a reason that starts
`placement:` (the quality report's PLACEMENT flags read them):
- a reviewed override (`placement_overrides`, loaded by `open287g load placement-overrides`)
  wins over everything the row says;
- where the row's cells contradict each other (`JurisdictionRef.conflict`, e.g. TYPE County
  on a place's police department), what won and why;
- a place with no COUNTY cell whose TYPE says County and whose name is exactly a county of
  its state (`Okeechobee Police Department`, TYPE County) is put inside that county.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from open287g.db.gazetteer import CountyMatch, county_by_fips, match_county
from open287g.db.ingest.ice287g import StagedRow
from open287g.db.models.enums import AgencyType, JurisdictionKind
from open287g.loaders.ice287g.jurisdictions import JurisdictionRef, state_ref
from open287g.loaders.ice287g.parse import IceRow, ParsedSheet

COUNTY_COLUMN = "COUNTY"
AGENCY_COLUMN = "LAW ENFORCEMENT AGENCY"
PLACEMENT = "placement: "
"""The start of every placement reason in `load_issues` (the quality report finds them)."""


@dataclass(frozen=True)
class PlacementOverride:
    """A reviewed placement: the agency is in the first county (inside it, in `place` when
    given); the further counties are the others it serves (named in the note)."""

    county_fips: tuple[str, ...]
    place: str | None
    note: str | None


Overrides = Mapping[tuple[str, str], PlacementOverride]  # (state, agency name key) → override


def place_counties(parsed: ParsedSheet, overrides: Overrides | None = None) -> list[StagedRow]:
    """The staged rows with gazetteer counties; repairs appended to `parsed.issues`."""
    cache: dict[tuple[str, str], CountyMatch | None] = {}
    staged: list[StagedRow] = []
    for row in parsed.rows:
        override = (overrides or {}).get((row.state_code, row.agency_key))
        if override is not None:
            placed = _overridden(row, override, parsed)
        else:
            placed = _place(row, cache, parsed)
        staged.append(placed.staged())
    return staged


def _overridden(row: IceRow, override: PlacementOverride, parsed: ParsedSheet) -> IceRow:
    counties = [county_by_fips()[fips] for fips in override.county_fips]
    state = state_ref(row.state_code)
    county = JurisdictionRef(JurisdictionKind.COUNTY, row.state_code, counties[0].name, state)
    ref = county
    if override.place:
        ref = JurisdictionRef(JurisdictionKind.PLACE, row.state_code, override.place, county)
    served = ", ".join(f"{c.name} {c.fips}" for c in counties)
    parsed.repaired(
        row.row_number,
        COUNTY_COLUMN,
        f"{PLACEMENT}reviewed override: placed in {ref.name} ({served})"
        + (f"; {override.note}" if override.note else ""),
        row.county,
    )
    return dataclasses.replace(row, jurisdiction=ref)


def _place(
    row: IceRow, cache: dict[tuple[str, str], CountyMatch | None], parsed: ParsedSheet
) -> IceRow:
    ref = row.jurisdiction
    if ref.conflict is not None:
        column = "TYPE" if ref.conflict.startswith("TYPE") else COUNTY_COLUMN
        parsed.repaired(row.row_number, column, PLACEMENT + ref.conflict, row.agency_name)
    if (
        ref.kind is JurisdictionKind.PLACE
        and row.county is None
        and row.agency_type is AgencyType.COUNTY
        and ref.parent is not None
        and ref.parent.kind is JurisdictionKind.STATE
    ):
        match = match_county(ref.state_code, ref.name)
        if match is not None and match.method == "exact":
            parsed.repaired(
                row.row_number,
                COUNTY_COLUMN,
                f"{PLACEMENT}no COUNTY cell; TYPE says County and the place has the name of "
                f"{match.county.name} ({match.county.fips}): placed inside it",
                None,
            )
            county = JurisdictionRef(
                JurisdictionKind.COUNTY, ref.state_code, match.county.name, ref.parent
            )
            return dataclasses.replace(row, jurisdiction=dataclasses.replace(ref, parent=county))
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
