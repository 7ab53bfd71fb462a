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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.gazetteer import CountyMatch, county_by_fips, match_county
from open287g.db.ingest.ice287g import StagedRow
from open287g.db.ingest.placements import Cells, Placement, store_placements, stored_cells
from open287g.db.models.enums import (
    AgencyType,
    JurisdictionKind,
    PlacementMethod,
    ProgramModelCode,
)
from open287g.loaders.ice287g.jurisdictions import JurisdictionRef, agency_jurisdiction, state_ref
from open287g.loaders.ice287g.parse import IceRow, ParsedSheet
from open287g.text import name_key

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
    return [row.staged() for row in _placed(parsed, overrides or {})]


def _placed(parsed: ParsedSheet, overrides: Overrides) -> list[IceRow]:
    cache: dict[tuple[str, str], CountyMatch | None] = {}
    placed: list[IceRow] = []
    for row in parsed.rows:
        override = overrides.get((row.state_code, row.agency_key))
        if override is not None:
            placed.append(_overridden(row, override, parsed))
        else:
            placed.append(_place(row, cache, parsed))
    return placed


def placements_of(cells: Sequence[Cells], reviewed: Overrides) -> dict[Cells, Placement]:
    """(method, evidence, conflict) of each row's cells, by the rules a load applies."""
    parsed = ParsedSheet()
    for number, (state, agency, kind, county) in enumerate(cells):
        agency_type = AgencyType(kind)
        parsed.rows.append(
            IceRow(
                number, state, agency, name_key(agency), agency_type, county,
                ProgramModelCode.TASK_FORCE, None, None, None, (),
                agency_jurisdiction(state, agency, agency_type, county),
            )
        )  # fmt: skip
    placed = _placed(parsed, reviewed)
    return {
        cell: (row.jurisdiction.method.value, row.jurisdiction.evidence or None,
               row.jurisdiction.conflict)
        for cell, row in zip(cells, placed, strict=True)
    }  # fmt: skip


async def placement_overrides(conn: AsyncConnection) -> Overrides:
    """Every override in force, by (state, agency name key): loaded rows win over the
    reviewed rows that came with the schema."""
    rows = await conn.execute(
        text(
            "SELECT DISTINCT ON (state_code, agency_key) state_code, agency_key, county_fips,"
            " place, note FROM placement_overrides"
            " ORDER BY state_code, agency_key, load_run_id IS NULL, id DESC"
        )
    )
    return {(str(r[0]), str(r[1])): PlacementOverride(tuple(r[2]), r[3], r[4]) for r in rows.all()}


async def refresh_placements(conn: AsyncConnection) -> set[int]:
    """Place every stored list row again from the cells it kept, by the current rules and
    overrides (the `placements` refresh: rows stored before placements were kept, migration
    0025); the jurisdiction each row was placed in is not touched. The agencies changed."""
    placed = placements_of(await stored_cells(conn), await placement_overrides(conn))
    return await store_placements(conn, placed)


def override_evidence(override: PlacementOverride) -> str:
    """The words of a reviewed placement, as loads and `load placement-overrides` store
    them on the agency (one text, so an agency moved by either reads the same)."""
    counties = [county_by_fips()[fips] for fips in override.county_fips]
    served = ", ".join(f"{c.name} {c.fips}" for c in counties)
    where = override.place or counties[0].name
    return f"reviewed override: placed in {where} ({served})" + (
        f"; {override.note}" if override.note else ""
    )


def _overridden(row: IceRow, override: PlacementOverride, parsed: ParsedSheet) -> IceRow:
    counties = [county_by_fips()[fips] for fips in override.county_fips]
    state = state_ref(row.state_code)
    county = JurisdictionRef(JurisdictionKind.COUNTY, row.state_code, counties[0].name, state)
    ref = county
    if override.place:
        ref = JurisdictionRef(JurisdictionKind.PLACE, row.state_code, override.place, county)
    evidence = override_evidence(override)
    parsed.repaired(row.row_number, COUNTY_COLUMN, f"{PLACEMENT}{evidence}", row.county)
    # The cells' own contradiction, if any, stays on record beside the reviewed placement.
    placed = dataclasses.replace(
        ref, conflict=row.jurisdiction.conflict, method=PlacementMethod.OVERRIDE, evidence=evidence
    )
    return dataclasses.replace(row, jurisdiction=placed)


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
            inside = dataclasses.replace(
                ref,
                parent=county,
                evidence=f"{ref.evidence}; no COUNTY cell: inside {match.county.name} "
                f"({match.county.fips}), whose name the place has",
            )
            return dataclasses.replace(row, jurisdiction=inside)
    if ref.kind is JurisdictionKind.COUNTY:
        return dataclasses.replace(row, jurisdiction=_real_county(row, ref, cache, parsed))
    if ref.parent is not None and ref.parent.kind is JurisdictionKind.COUNTY:
        parent = _real_county(row, ref.parent, cache, parsed)
        evidence = _joined(ref.evidence, parent.evidence)
        placed = dataclasses.replace(ref, parent=parent, evidence=evidence)
        return dataclasses.replace(row, jurisdiction=placed)
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
        reason = (
            f"county not in the Census county list of {ref.state_code}; "
            "the agency keeps its state only"
        )
        parsed.repaired(row.row_number, column, reason, raw)
        return dataclasses.replace(
            state_ref(ref.state_code),
            conflict=ref.conflict,
            method=PlacementMethod.STATE_ONLY,
            evidence=_joined(
                ref.evidence,
                f"{raw!r} is not a county in the Census county list of {ref.state_code}, "
                "so no county is known",
            ),
        )
    county = match.county
    guessed = ""
    if match.method != "exact":
        guessed = describe_match(match)
        parsed.repaired(row.row_number, column, guessed, raw)
    return dataclasses.replace(ref, name=county.name, evidence=_joined(ref.evidence, guessed))


def _joined(*said: str) -> str:
    return "; ".join(part for part in said if part)


def describe_match(match: CountyMatch) -> str:
    """The reason text of a guessed county (one text per target, so reports group by it)."""
    county = match.county
    how = {
        "independent-city": "the independent city of that name",
        "similarity": f"closest name, similarity {match.score:g}",
        "transposed-letters": "the same letters in another order",
    }.get(match.method, match.method)
    return f"county read as {county.name}, {county.state_code} (FIPS {county.fips}; {how})"
