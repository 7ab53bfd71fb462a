"""Reference data the migrations install: the 50 states + DC with FIPS, and the four
program models. Loaders look states up here too, so there is one list."""

from __future__ import annotations

from typing import Final, NamedTuple

from open287g.errors import ClientError


class State(NamedTuple):
    usps: str
    name: str
    fips: str


STATES: Final[tuple[State, ...]] = (
    State("AL", "Alabama", "01"), State("AK", "Alaska", "02"), State("AZ", "Arizona", "04"),
    State("AR", "Arkansas", "05"), State("CA", "California", "06"), State("CO", "Colorado", "08"),
    State("CT", "Connecticut", "09"), State("DE", "Delaware", "10"),
    State("DC", "District of Columbia", "11"), State("FL", "Florida", "12"),
    State("GA", "Georgia", "13"), State("HI", "Hawaii", "15"), State("ID", "Idaho", "16"),
    State("IL", "Illinois", "17"), State("IN", "Indiana", "18"), State("IA", "Iowa", "19"),
    State("KS", "Kansas", "20"), State("KY", "Kentucky", "21"), State("LA", "Louisiana", "22"),
    State("ME", "Maine", "23"), State("MD", "Maryland", "24"),
    State("MA", "Massachusetts", "25"), State("MI", "Michigan", "26"),
    State("MN", "Minnesota", "27"), State("MS", "Mississippi", "28"),
    State("MO", "Missouri", "29"), State("MT", "Montana", "30"), State("NE", "Nebraska", "31"),
    State("NV", "Nevada", "32"), State("NH", "New Hampshire", "33"),
    State("NJ", "New Jersey", "34"), State("NM", "New Mexico", "35"),
    State("NY", "New York", "36"), State("NC", "North Carolina", "37"),
    State("ND", "North Dakota", "38"), State("OH", "Ohio", "39"), State("OK", "Oklahoma", "40"),
    State("OR", "Oregon", "41"), State("PA", "Pennsylvania", "42"),
    State("RI", "Rhode Island", "44"), State("SC", "South Carolina", "45"),
    State("SD", "South Dakota", "46"), State("TN", "Tennessee", "47"), State("TX", "Texas", "48"),
    State("UT", "Utah", "49"), State("VT", "Vermont", "50"), State("VA", "Virginia", "51"),
    State("WA", "Washington", "53"), State("WV", "West Virginia", "54"),
    State("WI", "Wisconsin", "55"), State("WY", "Wyoming", "56"),
)  # fmt: skip


class ProgramModelInfo(NamedTuple):
    code: str
    name: str
    description: str
    legal_basis: str


PROGRAM_MODELS: Final[tuple[ProgramModelInfo, ...]] = (
    ProgramModelInfo(
        "JAIL_ENFORCEMENT",
        "Jail Enforcement Model",
        "Trained officers identify and process removable noncitizens who are arrested on "
        "state or local charges and booked into the agency's jail.",
        "Immigration and Nationality Act § 287(g), 8 U.S.C. § 1357(g)",
    ),
    ProgramModelInfo(
        "TASK_FORCE",
        "Task Force Model",
        "Trained officers exercise limited immigration authority during their routine "
        "police duties in the field, under ICE supervision.",
        "Immigration and Nationality Act § 287(g), 8 U.S.C. § 1357(g)",
    ),
    ProgramModelInfo(
        "TRIBAL_TASK_FORCE",
        "Tribal Task Force Model",
        "The Task Force Model for tribal law-enforcement agencies on tribal lands.",
        "Immigration and Nationality Act § 287(g), 8 U.S.C. § 1357(g); 25 U.S.C. § 2804",
    ),
    ProgramModelInfo(
        "WARRANT_SERVICE_OFFICER",
        "Warrant Service Officer Model",
        "Trained jail officers serve and execute ICE administrative warrants on "
        "noncitizens already in the agency's custody.",
        "Immigration and Nationality Act § 287(g), 8 U.S.C. § 1357(g)",
    ),
)


class UnknownState(ClientError):
    pass


_STATE_LOOKUP: Final[dict[str, str]] = {
    **{state.usps: state.usps for state in STATES},
    **{state.name.upper(): state.usps for state in STATES},
}


def resolve_state(value: str | None) -> str | None:
    """A USPS code or state name, any case and spacing, → the USPS code. No fuzzy guessing
    on queries: a typo is an error, never another state's data."""
    if value is None:
        return None
    # No state name is longer than this; a longer value is neither looked up nor echoed.
    code = _STATE_LOOKUP.get(" ".join(value.split()).upper()) if len(value) <= 64 else None
    if code is None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise UnknownState(f"unknown state {shown!r}: use a USPS code (TX) or a state name (Texas)")
    return code
