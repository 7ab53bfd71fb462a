"""Which jurisdiction an agency serves, decided conservatively from what the list says.

- County agencies (sheriffs, county police) serve their county: the COUNTY column, or the
  county named in the agency's own name when the column is blank.
- Municipal agencies serve their city: the agency name without its department suffix
  ("Level Plains Police Department" → Level Plains), inside its county when one is given,
  unless what is left names no place ("Arkansas State", "Marlow Heights Special").
- State agencies serve the state; tribal agencies their tribe.
- Anything else is attached to the county when one is given, else to the state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from open287g.db.models.enums import AgencyType, JurisdictionKind
from open287g.db.reference_data import STATES
from open287g.loaders.normalize import name_key

_COUNTY_SUFFIX = re.compile(r"\s+(COUNTY|PARISH|BOROUGH|CENSUS AREA)$")
_COUNTY_IN_NAME = re.compile(r"^(?P<county>.+?\s(County|Parish|Borough))\b", re.IGNORECASE)
_DEPARTMENT_SUFFIX = re.compile(
    r"\s+(Police Department|Police Dept\.?|Police|Department of Public Safety|Public Safety"
    r"|Marshal'?s Office|Sheriff'?s Office|Tribal Police Department|Tribal Police)$",
    re.IGNORECASE,
)
STATE_NAMES = {state.usps: state.name for state in STATES}
_COUNTY_WORD = {"LA": "Parish", "AK": "Borough"}
_NOT_A_CITY = re.compile(
    r"\b(STATE|UNIVERSITY|COLLEGE|SCHOOL|AIRPORT|PORT|SPECIAL|DISTRICT|AUTHORITY|COUNTY|"
    r"PARISH|DEPARTMENT|DIVISION|COMMISSION|BUREAU|OFFICE|TRANSIT|HOSPITAL|CAPITOL|REGIONAL)\b"
)


@dataclass(frozen=True)
class JurisdictionRef:
    kind: JurisdictionKind
    state_code: str
    name: str
    parent: JurisdictionRef | None = None

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
    if agency_type is AgencyType.STATE_AGENCY:
        return state
    if agency_type is AgencyType.COUNTY:
        if county_jurisdiction is None:
            named = _COUNTY_IN_NAME.match(agency)
            if named is None:
                return state
            county_jurisdiction = county_ref(state_code, named["county"])
        return county_jurisdiction
    if agency_type is AgencyType.MUNICIPALITY:
        city = _DEPARTMENT_SUFFIX.sub("", agency).strip()
        if city and city != agency and not _NOT_A_CITY.search(name_key(city)):
            return JurisdictionRef(
                JurisdictionKind.PLACE, state_code, city, county_jurisdiction or state
            )
    if agency_type is AgencyType.TRIBAL:
        tribe = _DEPARTMENT_SUFFIX.sub("", agency).strip() or agency
        return JurisdictionRef(JurisdictionKind.TRIBAL, state_code, tribe, state)
    return county_jurisdiction or state
