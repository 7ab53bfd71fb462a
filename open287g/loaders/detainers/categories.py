"""The small, documented vocabularies detainer rows are folded into (README "Detainers").

Free text from the releases is mapped here and nowhere else, so the categories a user sees
are exactly the ones listed in these tables.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from open287g.db.models.enums import DetainerOutcome

UNKNOWN: Final = "UNKNOWN"

_OTHER_LIFT_REASONS: Final = (
    "EARLY RELEASE",
    "PROSECUTORIAL DISCRETION",
    "CASE CLOSED",
    "NO LONGER IN STATE, LOCAL, OR FEDERAL CUSTODY",
    "NOT AMENABLE TO REMOVAL",
    "USC OR PRESUMPTIVE CLAIM TO US CITIZENSHIP",
    "JUDICIAL REVIEW",
    "SUPERSEDED BY A NEW DETAINER",
    "REMOVED",
    "DETAINER LIFTED",
)
KNOWN_LIFT_REASONS: Final[dict[str, DetainerOutcome]] = {
    "BOOKED INTO DETENTION": DetainerOutcome.BOOKED_INTO_DETENTION,
    "DETAINER DECLINED BY LEA": DetainerOutcome.DECLINED_BY_AGENCY,
    **dict.fromkeys(_OTHER_LIFT_REASONS, DetainerOutcome.OTHER_LIFTED),
}

CRIMINALITY: Final[dict[str, str]] = {
    "1": "CONVICTED",
    "2": "PENDING_CHARGES",
    "3": "OTHER_IMMIGRATION_VIOLATOR",
}

# Most-serious-conviction text → category. First matching pattern wins; no conviction
# (blank) is NONE, anything unmatched OTHER.
CHARGE_CATEGORIES: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("DUI", re.compile(r"DRIVING UNDER|DUI|DWI|INFLUENCE")),
    ("IMMIGRATION", re.compile(r"ILLEGAL ENTRY|ILLEGAL RE-?ENTRY|1325|1326|IMMIGRATION")),
    ("VIOLENT", re.compile(r"ASSAULT|HOMICIDE|MURDER|MANSLAUGHTER|ROBBERY|KIDNAP|SEX|RAPE")),
    ("DRUGS", re.compile(r"DRUG|NARCOTIC|MARIJUANA|COCAINE|CONTROLLED SUBST")),
    ("WEAPONS", re.compile(r"WEAPON|FIREARM")),
    ("PROPERTY", re.compile(r"LARCENY|BURGLARY|THEFT|STOLEN|VANDAL|ARSON|TRESPASS")),
    ("FRAUD", re.compile(r"FRAUD|FORGERY|COUNTERFEIT|EMBEZZL")),
    ("TRAFFIC", re.compile(r"TRAFFIC|LICENSE|HIT AND RUN|VEHICLE")),
    ("PUBLIC_ORDER", re.compile(r"OBSTRUCT|FAMILY|PRIVACY|DISORDERLY|PUBLIC|RESISTING")),
)
CHARGE_CATEGORY_NAMES: Final = (*(name for name, _ in CHARGE_CATEGORIES), "OTHER", "NONE")


def outcome(lift_reason: str | None) -> tuple[DetainerOutcome, bool]:
    """(outcome, known): blank is PENDING; an unknown reason is OTHER_LIFTED, flagged."""
    if not lift_reason:
        return DetainerOutcome.PENDING, True
    found = KNOWN_LIFT_REASONS.get(lift_reason.upper())
    if found is None:
        return DetainerOutcome.OTHER_LIFTED, False
    return found, True


def criminality(value: str | None) -> str:
    if not value:
        return UNKNOWN
    return CRIMINALITY.get(value[:1], UNKNOWN)


@lru_cache(maxsize=4096)
def charge_category(conviction: str | None) -> str:
    if not conviction:
        return "NONE"
    text = conviction.upper()
    for name, pattern in CHARGE_CATEGORIES:
        if pattern.search(text):
            return name
    return "OTHER"
