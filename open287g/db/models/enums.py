"""Closed vocabularies of the public interface (SPEC "Domain"), stored as PostgreSQL enums."""

from __future__ import annotations

import enum


class ProgramModelCode(enum.StrEnum):
    JAIL_ENFORCEMENT = "JAIL_ENFORCEMENT"
    TASK_FORCE = "TASK_FORCE"
    TRIBAL_TASK_FORCE = "TRIBAL_TASK_FORCE"
    WARRANT_SERVICE_OFFICER = "WARRANT_SERVICE_OFFICER"


class AgreementStatus(enum.StrEnum):
    """The agreement's life. `ENDED`: an active agreement that left the lists (a real
    termination); `WITHDRAWN`: a pending application that left without becoming active;
    `RENAMED`: left under one name and goes on under another (its `successor`: a rename, a
    relisting after a gap, a corrected state); `SWITCHED`: the agency went on under
    another program model (its `switchedTo`)."""

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    ENDED = "ENDED"
    WITHDRAWN = "WITHDRAWN"
    RENAMED = "RENAMED"
    SWITCHED = "SWITCHED"


class JurisdictionKind(enum.StrEnum):
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


class SnapshotKind(enum.StrEnum):
    PARTICIPATING = "PARTICIPATING"
    PENDING = "PENDING"


class PolicyStatus(enum.StrEnum):
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
