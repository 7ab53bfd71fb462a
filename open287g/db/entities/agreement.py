"""Agreement: one agency's 287(g) agreement under one program model, as ICE's lists show
it (current, or as of a date: the root connection's source decides which rows)."""

from __future__ import annotations

import datetime as dt

from open287g.db.entities.agreement_link import (
    LINEAGE_FIRST_SEEN,
    link_relation,
    linked_relation,
)
from open287g.db.entities.declare import Column, Entity, Relation, RestColumn
from open287g.db.entities.observation import OBSERVATION_ORDER, observations_of
from open287g.db.entities.policy import policy_status_column
from open287g.db.models.enums import AgreementStatus
from open287g.db.queries import observations
from open287g.db.queries.documents import DOCUMENTS

_LINK_METHOD = "Why it was linked: moa-url, name-similarity, signed-date or override."
_LINK_KIND = "What kind of link: RENAME, RELISTING, STATE or SWITCH."


def _link_columns(end: str, description: str) -> tuple[RestColumn, ...]:
    """The REST columns of the link at one end (`predecessor` or `successor`): the
    agreement there (`description`), and the link's kind, method and score."""
    link = f"{end}_link"
    return (
        RestColumn(f"{end}_id", f"{link}.{end}.id", description),
        RestColumn(f"{end}_kind", f"{link}.kind", _LINK_KIND),
        RestColumn(f"{end}_method", f"{link}.method", _LINK_METHOD),
        RestColumn(f"{end}_score", f"{link}.score"),
    )


_AGENCY_JURISDICTION = "(SELECT ag.jurisdiction_id FROM agencies ag WHERE ag.id = {t}.agency_id)"

AGREEMENT = Entity(
    name="Agreement",
    description="A 287(g) agreement: one agency, one program model, as ICE's lists show it "
    "over time.",
    table="agreements {t}",
    rendered="agreement_rows",
    columns=(
        Column(
            "status",
            "{t}.status",
            AgreementStatus,
            "Where the agreement stands in ICE's newest lists.",
        ),
        Column(
            "signed_on",
            "{t}.signed_on",
            dt.date | None,
            "Null when ICE's date cannot be read unambiguously; see signedRaw.",
        ),
        Column("signed_raw", "{t}.signed_raw", str | None, "The date text as ICE wrote it."),
        Column(
            "moa_url",
            "{t}.moa_url",
            str | None,
            "The link to its MOA document on ice.gov, as ICE's list gives it.",
        ),
        Column(
            "addendum_urls",
            "to_json({t}.addendum_urls)",
            list[str],
            "Links to its addenda on ice.gov, in ICE's order.",
        ),
        Column(
            "first_seen",
            "{t}.first_seen",
            dt.date,
            "Publication date of the first list in this archive that named it. The archive "
            "starts with the oldest list loaded: on that date it means 'already listed then'.",
        ),
        Column("last_seen", "{t}.last_seen", dt.date, "The last list that named it."),
        Column(
            "activated_on",
            "{t}.activated_on",
            dt.date | None,
            "The first participating list that carried it (pending → active).",
        ),
        Column(
            "ended_on",
            "(CASE WHEN {t}.status = 'ENDED' THEN {t}.left_on END)",
            dt.date | None,
            "ENDED only: the first participating list on which it was absent (lastSeen is "
            "the last that carried it).",
        ),
        Column(
            "withdrawn_on",
            "(CASE WHEN {t}.status = 'WITHDRAWN' THEN {t}.left_on END)",
            dt.date | None,
            "WITHDRAWN only: the first pending list on which the application was absent.",
        ),
        policy_status_column(
            _AGENCY_JURISDICTION, "Policy status of the agency's jurisdiction (or its parents)."
        ),
        Column(
            "lineage_first_seen",
            LINEAGE_FIRST_SEEN,
            dt.date,
            "The first list naming it or any predecessor: a rename does not restart the "
            "history (firstSeen does).",
        ),
        Column(
            "state_code",
            "{t}.state_code",
            str,
            "The two-letter USPS code of the agency's state.",
            graphql=False,
        ),
    ),
    relations=(
        Relation(
            "agency",
            "Agency",
            "one",
            "agencies {c} WHERE {c}.id = {t}.agency_id",
            nullable=False,
            unique=True,
            description="The agency that signed it.",
        ),
        Relation(
            "model",
            "ProgramModel",
            "one",
            "program_models {c} WHERE {c}.code = {t}.model_code",
            nullable=False,
            unique=True,
            description="Its 287(g) program model.",
        ),
        linked_relation(
            "predecessor",
            "successor_id",
            "predecessor_id",
            "The agreement this one continues: ICE renamed the agency, relisted it after a "
            "gap, or corrected its state.",
        ),
        linked_relation(
            "successor",
            "predecessor_id",
            "successor_id",
            "The agreement that continues this one (status RENAMED).",
        ),
        linked_relation(
            "switched_from",
            "successor_id",
            "predecessor_id",
            "The agency's agreement under another program model that this one replaced.",
            switch=True,
        ),
        linked_relation(
            "switched_to",
            "predecessor_id",
            "successor_id",
            "The agency's agreement under another program model that replaced this one "
            "(this one ENDED, or WITHDRAWN if it never became active).",
            switch=True,
        ),
        link_relation(
            "predecessor_link", "successor_id", "The link to the predecessor and why it was made."
        ),
        link_relation(
            "successor_link", "predecessor_id", "The link to the successor and why it was made."
        ),
        Relation(
            "document",
            "Document",
            "one",
            f"{DOCUMENTS} {{c}} WHERE {{c}}.id IN (SELECT l.document_id"
            " FROM document_agreements l WHERE l.agreement_id = {t}.id AND l.is_current)",
            order="{c}.id",
            description="Its MOA document (the file its moaUrl names), once loaded.",
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
        ),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("agency_id", "agency.id"),
        RestColumn("agency_name", "agency.name"),
        RestColumn("state", "state_code"),
        RestColumn("model", "model.code"),
        RestColumn("status"),
        RestColumn("signed_on", description="Null when ICE's date is unreadable."),
        RestColumn("signed_raw"),
        RestColumn("moa_url"),
        RestColumn("addendum_urls"),
        RestColumn("first_seen"),
        RestColumn("last_seen"),
        RestColumn("activated_on"),
        RestColumn("ended_on"),
        RestColumn("withdrawn_on"),
        RestColumn(
            "lineage_first_seen",
            description="The first list naming it or any predecessor (a rename keeps its history).",
        ),
        *_link_columns(
            "predecessor",
            "The agreement this one continues (a rename, relisting, corrected state, or the "
            "model it switched from: see predecessor_kind).",
        ),
        *_link_columns(
            "successor",
            "The agreement that continues this one (status RENAMED), or the model it "
            "switched to (see successor_kind and switched_to_id).",
        ),
        RestColumn(
            "switched_from_id",
            "switched_from.id",
            "The agency's agreement under another program model that this one replaced.",
        ),
        RestColumn(
            "switched_to_id",
            "switched_to.id",
            "The agency's agreement under another program model that replaced this one (this "
            "one ENDED, or WITHDRAWN if it never became active).",
        ),
    ),
)
