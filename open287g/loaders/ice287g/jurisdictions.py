"""Which jurisdiction an agency serves, decided from the best evidence a list row gives.

Evidence, strongest first: an override (`loaders/placement_overrides.py`, applied in
`ice287g/counties.py`), the place in the agency's own name, the TYPE cell, the COUNTY cell.

- County agencies (sheriffs, county police) serve their county: the county named in the
  agency's own name when it names one (a COUNTY cell naming another real county is ICE's
  slip: "Bradford County Sheriff's Office" with COUNTY "Bedford County"; kept as `conflict`),
  else the COUNTY column.
- Municipal agencies serve their place: the agency name without its department suffix
  ("Level Plains Police Department" → Level Plains, "Damascus Township Constable" →
  Damascus Township), inside its county when one is given, unless what is left names no
  place ("Arkansas State", "Marlow Heights Special", "Lee County Port Authority").
- A row whose TYPE says County but whose name is a place's police department or constable
  ("Alachua Police Departent", "Okeechobee Police Department") is that place's: the name
  is the agency's own word, the TYPE cell ICE's; the contradiction is kept (`conflict`)
  for the quality report.
- State agencies serve the state; tribal agencies their tribe.
- Anything else is attached to the county when one is given, else to the state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from open287g.db.gazetteer import match_county
from open287g.db.models.enums import AgencyType, JurisdictionKind, PlacementMethod
from open287g.db.reference_data import STATES
from open287g.text import name_key

_COUNTY_SUFFIX = re.compile(r"\s+(COUNTY|PARISH|BOROUGH|CENSUS AREA)$")
_COUNTY_IN_NAME = re.compile(r"^(?P<county>.+?\s(County|Parish|Borough))\b", re.IGNORECASE)
_DEPARTMENT_SUFFIX = re.compile(
    r"\s+(Police Dep\w*\.?|Police|Department of Public Safety|Public Safety"
    r"|Marshal'?s Office|Sheriff'?s Office|Tribal Police Dep\w*|Tribal Police"
    r"|Constables?'?s?'?s?(?: Office)?)$",
    re.IGNORECASE,
)
"""`Police Dep…` also reads ICE's misspellings (`Police Departent`)."""
_A_PLACES_FORCE = re.compile(r"\s+(Police Dep\w*\.?|Police|Constables?'?s?'?s?(?: Office)?)$", re.I)
"""Names that are a place's police or constable whatever the TYPE cell says."""
STATE_NAMES = {state.usps: state.name for state in STATES}
_COUNTY_WORD = {"LA": "Parish", "AK": "Borough"}
_NOT_A_CITY = re.compile(
    r"\b(STATE|UNIVERSITY|COLLEGE|SCHOOL|AIRPORT|SPECIAL|DISTRICT|AUTHORITY|COUNTY|PARISH|"
    r"DEPARTMENT|DIVISION|COMMISSION|BUREAU|OFFICE|TRANSIT|HOSPITAL|CAPITOL|REGIONAL|WARD|"
    r"METRO|METROPOLITAN)\b"
)


@dataclass(frozen=True)
class JurisdictionRef:
    kind: JurisdictionKind
    state_code: str
    name: str
    parent: JurisdictionRef | None = None
    conflict: str | None = field(default=None, compare=False)
    """Where ICE's cells about this row's place contradict each other, and what won."""
    method: PlacementMethod = field(default=PlacementMethod.COUNTY_CELL, compare=False)
    """Which evidence placed the row's agency here (stored, shown on Agency)."""
    evidence: str = field(default="", compare=False)
    """That evidence in words: the cells or name it read."""

    def placed(self, method: PlacementMethod, evidence: str) -> JurisdictionRef:
        return replace(self, method=method, evidence=evidence)

    @property
    def key(self) -> str:
        return jurisdiction_key(self.kind, self.name)


def jurisdiction_key(kind: JurisdictionKind, name: str) -> str:
    """Counties match with or without their "County"/"Parish" word (`Decatur` ≡ `Decatur
    County`); the state jurisdictions installed by the migration use the upper-case name."""
    key = name_key(name)
    if kind is JurisdictionKind.COUNTY:
        key = _COUNTY_SUFFIX.sub("", key)
    return key


def county_ref(state_code: str, county: str) -> JurisdictionRef:
    name = county
    if _COUNTY_SUFFIX.search(name_key(county)) is None:
        name = f"{county} {_COUNTY_WORD.get(state_code, 'County')}"
    return JurisdictionRef(JurisdictionKind.COUNTY, state_code, name, state_ref(state_code))


def state_ref(state_code: str) -> JurisdictionRef:
    return JurisdictionRef(JurisdictionKind.STATE, state_code, STATE_NAMES[state_code])


def agency_jurisdiction(
    state_code: str, agency: str, agency_type: AgencyType, county: str | None
) -> JurisdictionRef:
    state = state_ref(state_code)
    county_jurisdiction = county_ref(state_code, county) if county else None
    by_cell = f"the COUNTY cell says {county}"
    if agency_type is AgencyType.STATE_AGENCY:
        return state.placed(PlacementMethod.TYPE, "TYPE says State Agency: it serves the state")
    if agency_type is AgencyType.COUNTY:
        place = _place_named(state_code, agency, county_jurisdiction or state, _A_PLACES_FORCE)
        if place is not None:
            return replace(
                place,
                conflict="TYPE says County, but the name is a place's police or constable; "
                f"placed in the place {place.name}",
                method=PlacementMethod.AGENCY_NAME,
                evidence=f"the name names the place {place.name}"
                + (f", in {county} (the COUNTY cell)" if county else ""),
            )
        named = _COUNTY_IN_NAME.match(agency)
        if county_jurisdiction is None:
            if named is None:
                return state.placed(
                    PlacementMethod.STATE_ONLY,
                    "TYPE says County, but there is no COUNTY cell and the name names no county",
                )
            return county_ref(state_code, named["county"]).placed(
                PlacementMethod.AGENCY_NAME, f"the name names {named['county']} (no COUNTY cell)"
            )
        if named is not None and county is not None:
            in_name, in_cell = (
                match_county(state_code, named["county"]),
                match_county(state_code, county),
            )
            if in_name and in_cell and in_name.county.fips != in_cell.county.fips:
                return replace(
                    county_ref(state_code, named["county"]),
                    conflict=f"the COUNTY cell says {county}, the agency's own name "
                    f"{named['county']}; placed by the name",
                    method=PlacementMethod.AGENCY_NAME,
                    evidence=f"the name names {named['county']}",
                )
            return county_jurisdiction.placed(
                PlacementMethod.COUNTY_CELL, f"{by_cell}; the name agrees"
            )
        return county_jurisdiction.placed(PlacementMethod.COUNTY_CELL, by_cell)
    if agency_type is AgencyType.MUNICIPALITY:
        place = _place_named(state_code, agency, county_jurisdiction or state, _DEPARTMENT_SUFFIX)
        if place is not None:
            return place.placed(
                PlacementMethod.AGENCY_NAME,
                f"the name names the place {place.name}"
                + (f", in {county} (the COUNTY cell)" if county else ""),
            )
    if agency_type is AgencyType.TRIBAL:
        tribe = _DEPARTMENT_SUFFIX.sub("", agency).strip() or agency
        return JurisdictionRef(JurisdictionKind.TRIBAL, state_code, tribe, state).placed(
            PlacementMethod.AGENCY_NAME, f"TYPE says Tribal; the name names {tribe}"
        )
    if county_jurisdiction is not None:
        return county_jurisdiction.placed(
            PlacementMethod.COUNTY_CELL, f"{by_cell}; the name names no place of its own"
        )
    return state.placed(
        PlacementMethod.STATE_ONLY, "no COUNTY cell, and the name names no place of its own"
    )


def _place_named(
    state_code: str, agency: str, parent: JurisdictionRef, suffix: re.Pattern[str]
) -> JurisdictionRef | None:
    """The place an agency's name names once its department suffix is dropped, if any."""
    place = suffix.sub("", agency).strip()
    if not place or place == agency or _NOT_A_CITY.search(name_key(place)):
        return None
    return JurisdictionRef(JurisdictionKind.PLACE, state_code, place, parent)
