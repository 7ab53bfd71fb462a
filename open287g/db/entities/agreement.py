"""Agreement: one agency's 287(g) agreement under one program model, as ICE's lists show
it (current, or as of a date: the root connection's source decides which rows)."""

from __future__ import annotations

import datetime as dt

from open287g.db.entities.agreement_link import (
    LINEAGE_FIRST_SEEN,
    link_relation,
    linked_relation,
)
from open287g.db.entities.declare import Column, Entity, Relation
from open287g.db.entities.observation import OBSERVATION_ORDER, observations_of
from open287g.db.entities.policy import policy_status_sql
from open287g.db.models.enums import AgreementStatus, PolicyStatus
from open287g.db.queries import observations

_AGENCY_JURISDICTION = "(SELECT ag.jurisdiction_id FROM agencies ag WHERE ag.id = {t}.agency_id)"

AGREEMENT = Entity(
    name="Agreement",
    table="agreements {t}",
    columns=(
        Column("status", "{t}.status", AgreementStatus),
        Column(
            "signed_on",
            "{t}.signed_on",
            dt.date | None,
            "Null when ICE's date cannot be read unambiguously; see signedRaw.",
        ),
        Column("signed_raw", "{t}.signed_raw", str | None, "The date text as ICE wrote it."),
        Column("moa_url", "{t}.moa_url", str | None),
        Column("addendum_urls", "to_json({t}.addendum_urls)", list[str]),
        Column("first_seen", "{t}.first_seen", dt.date),
        Column("last_seen", "{t}.last_seen", dt.date),
        Column(
            "activated_on",
            "{t}.activated_on",
            dt.date | None,
            "The first participating list that carried it (pending → active).",
        ),
        Column(
            "policy_status",
            policy_status_sql(_AGENCY_JURISDICTION),
            PolicyStatus,
            "Policy status of the agency's jurisdiction (or its parents).",
        ),
        Column(
            "lineage_first_seen",
            LINEAGE_FIRST_SEEN,
            dt.date,
            "The first list naming it or any predecessor: a rename does not restart the "
            "history (firstSeen does).",
        ),
    ),
    relations=(
        Relation(
            "agency", "Agency", "one", "agencies {c} WHERE {c}.id = {t}.agency_id", nullable=False
        ),
        Relation(
            "model",
            "ProgramModel",
            "one",
            "program_models {c} WHERE {c}.code = {t}.model_code",
            nullable=False,
        ),
        linked_relation(
            "predecessor",
            "successor_id",
            "predecessor_id",
            "The agreement this one continues (ICE renamed the agency).",
        ),
        linked_relation(
            "successor",
            "predecessor_id",
            "successor_id",
            "The agreement that continues this one (status RENAMED).",
        ),
        link_relation(
            "predecessor_link", "successor_id", "The link to the predecessor and why it was made."
        ),
        link_relation(
            "successor_link", "predecessor_id", "The link to the successor and why it was made."
        ),
        Relation(
            "observations",
            "Observation",
            "connection",
            f"{observations_of('{c}')} WHERE {{c}}.agreement_id = {{t}}.id",
            nullable=False,
            description="Every ICE list that named it, oldest first: the row's values and the "
            "file (dataset, sha256) they came from.",
            ordering=observations.ORDERING,
            paging=OBSERVATION_ORDER,
            counted=False,
        ),
    ),
)
