"""Closed vocabularies of the public interface (SPEC "Domain"), stored as PostgreSQL enums."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class ProgramModelCode(enum.StrEnum):
    """A 287(g) program model (ICE's three, and the tribal task force)."""

    JAIL_ENFORCEMENT = "JAIL_ENFORCEMENT"
    TASK_FORCE = "TASK_FORCE"
    TRIBAL_TASK_FORCE = "TRIBAL_TASK_FORCE"
    WARRANT_SERVICE_OFFICER = "WARRANT_SERVICE_OFFICER"


class AgreementStatus(enum.StrEnum):
    """The agreement's life (SPEC's five values). `ENDED`: an active agreement that left
    the lists (a real termination, also when the agency went on under another program
    model: then its `switchedTo` names that agreement); `WITHDRAWN`: a pending application
    that left without becoming active; `RENAMED`: left under one name and goes on under
    another (its `successor`: a rename, a relisting after a gap, a corrected state)."""

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    ENDED = "ENDED"
    WITHDRAWN = "WITHDRAWN"
    RENAMED = "RENAMED"


class JurisdictionKind(enum.StrEnum):
    """What kind of government a jurisdiction is."""

    STATE = "STATE"
    COUNTY = "COUNTY"
    PLACE = "PLACE"
    TRIBAL = "TRIBAL"


class AgencyType(enum.StrEnum):
    """ICE's TYPE column, folded: `Municipal` and `Municipality` are one value."""

    COUNTY = "COUNTY"
    MUNICIPALITY = "MUNICIPALITY"
    STATE_AGENCY = "STATE_AGENCY"
    TRIBAL = "TRIBAL"
    UNKNOWN = "UNKNOWN"


class PlacementMethod(enum.StrEnum):
    """Which evidence placed an agency in its jurisdiction (docs/data.md, "Places"),
    strongest first."""

    OVERRIDE = "OVERRIDE"
    AGENCY_NAME = "AGENCY_NAME"
    COUNTY_CELL = "COUNTY_CELL"
    TYPE = "TYPE"
    STATE_ONLY = "STATE_ONLY"


class SnapshotKind(enum.StrEnum):
    """Which of ICE's two lists a file is."""

    PARTICIPATING = "PARTICIPATING"
    PENDING = "PENDING"


class PolicyStatus(enum.StrEnum):
    """What a jurisdiction does with ICE's requests (detainers, notifications, access)."""

    RESTRICTS = "RESTRICTS"
    LIMITS = "LIMITS"
    NONE = "NONE"
    MANDATES = "MANDATES"
    UNKNOWN = "UNKNOWN"


class PolicyBasis(enum.StrEnum):
    """What kind of assertion a policy record is (README "Policies"): the jurisdiction's own
    `LAW` (statute, ordinance, policy in force), a government's `DESIGNATION` of it (the
    DOJ's list), or a `REPORT` naming it (a brief, an article). Law outranks designation,
    designation outranks report, when one jurisdiction's assertions disagree."""

    LAW = "LAW"
    DESIGNATION = "DESIGNATION"
    REPORT = "REPORT"


class DetainerOutcome(enum.StrEnum):
    """How a detainer ended, as ICE records it."""

    BOOKED_INTO_DETENTION = "BOOKED_INTO_DETENTION"
    DECLINED_BY_AGENCY = "DECLINED_BY_AGENCY"
    OTHER_LIFTED = "OTHER_LIFTED"
    PENDING = "PENDING"


class IssueAction(enum.StrEnum):
    """What a loader did with a defective value: fixed it, or left the row out."""

    REPAIRED = "REPAIRED"
    REJECTED = "REJECTED"


class ChangeOp(enum.StrEnum):
    UPSERT = "UPSERT"
    DELETE = "DELETE"


class Meanings:
    """What each value of the API's enums means, by enum and value: StrEnum members of
    different enums with the same value are equal and hash alike (`DetainerDimension.STATE
    == LinkKind.STATE == "STATE"`), so a dict keyed by the members kept one entry for both
    and the last words won (the schema described DetainerDimension.STATE as LinkKind.STATE).
    Each `update` describes values of one enum."""

    def __init__(self) -> None:
        self._words: dict[tuple[type[enum.Enum], str], str] = {}

    def update(self, words: Mapping[Any, str]) -> None:
        """Describe values of ONE enum (a literal mixing enums could merge equal members
        before it got here, so it is refused)."""
        kinds = {type(member) for member in words}
        if len(kinds) > 1:
            raise ValueError(f"one enum per update, not {sorted(k.__name__ for k in kinds)}")
        for member, text in words.items():
            self._words[(type(member), member.name)] = text

    def get(self, member: enum.Enum) -> str | None:
        return self._words.get((type(member), member.name))

    def enums(self) -> set[type[enum.Enum]]:
        """The enums with words."""
        return {kind for kind, _ in self._words}


# What each value means, where it is declared: the GraphQL schema's enum values carry these
# words (`graphql/enum_meanings.py`); modules declaring other public enums add theirs.
MEANINGS = Meanings()
MEANINGS.update(
    {
        ProgramModelCode.JAIL_ENFORCEMENT: "Officers in the agency's jail screen people booked "
        "in and start removal proceedings.",
        ProgramModelCode.TASK_FORCE: "Officers enforce immigration law during their routine "
        "police duties.",
        ProgramModelCode.TRIBAL_TASK_FORCE: "The task force model for a tribal police force.",
        ProgramModelCode.WARRANT_SERVICE_OFFICER: "Jail officers serve ICE administrative "
        "warrants on people already in custody.",
    }
)
MEANINGS.update(
    {
        AgreementStatus.ACTIVE: "On ICE's newest participating list.",
        AgreementStatus.PENDING: "On ICE's newest pending list: signed, not yet in force.",
        AgreementStatus.ENDED: "An active agreement that left the lists: terminated (its "
        "switchedTo, if any, is the agency's agreement under the program model that followed).",
        AgreementStatus.WITHDRAWN: "A pending application that left the lists without "
        "becoming active.",
        AgreementStatus.RENAMED: "Left the lists under this name and goes on under another "
        "(its successor).",
    }
)
MEANINGS.update(
    {
        JurisdictionKind.STATE: "A state or DC.",
        JurisdictionKind.COUNTY: "A county or county-equivalent (parish, borough).",
        JurisdictionKind.PLACE: "A city, town or other Census place.",
        JurisdictionKind.TRIBAL: "A tribal nation.",
    }
)
MEANINGS.update(
    {
        AgencyType.COUNTY: "A county agency (a sheriff's office, a county jail).",
        AgencyType.MUNICIPALITY: "A city or town's agency (a police department).",
        AgencyType.STATE_AGENCY: "A state agency (a state police, corrections department).",
        AgencyType.TRIBAL: "A tribal agency.",
        AgencyType.UNKNOWN: "ICE's list gives no type we recognise.",
    }
)
MEANINGS.update(
    {
        PlacementMethod.OVERRIDE: "A reviewed placement override (open287g load "
        "placement-overrides, or one that came with the schema): it wins over ICE's cells.",
        PlacementMethod.AGENCY_NAME: "The place, county or tribe the agency's own name names.",
        PlacementMethod.COUNTY_CELL: "ICE's COUNTY cell.",
        PlacementMethod.TYPE: "ICE's TYPE cell: a state agency serves its state.",
        PlacementMethod.STATE_ONLY: "No evidence of a county or place (or a county the Census "
        "list lacks): the agency keeps its state only.",
    }
)
MEANINGS.update(
    {
        SnapshotKind.PARTICIPATING: "The agreements in force.",
        SnapshotKind.PENDING: "The agreements signed but not yet in force.",
    }
)
MEANINGS.update(
    {
        PolicyStatus.RESTRICTS: "Refuses or restricts cooperation with ICE (a sanctuary policy).",
        PolicyStatus.LIMITS: "Limits cooperation in some ways.",
        PolicyStatus.NONE: "No policy either way is known.",
        PolicyStatus.MANDATES: "Requires cooperation with ICE (e.g. a state law mandating 287(g)).",
        PolicyStatus.UNKNOWN: "Not known.",
    }
)
MEANINGS.update(
    {
        PolicyBasis.LAW: "The jurisdiction's own law, ordinance or policy in force.",
        PolicyBasis.DESIGNATION: "A government's designation of it (the DOJ's list).",
        PolicyBasis.REPORT: "A report naming it (a brief, an article).",
    }
)
MEANINGS.update(
    {
        DetainerOutcome.BOOKED_INTO_DETENTION: "The person was booked into ICE detention.",
        DetainerOutcome.DECLINED_BY_AGENCY: "The agency declined to honour the detainer.",
        DetainerOutcome.OTHER_LIFTED: "Lifted for another reason.",
        DetainerOutcome.PENDING: "Not yet decided.",
    }
)
