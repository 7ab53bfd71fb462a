"""Agency: a state or local law-enforcement agency as ICE's lists name it, with the
jurisdiction it serves, its agreements, officials and the policy in force there."""

from __future__ import annotations

from open287g.db.entities.declare import Column, Entity, Relation, RestColumn
from open287g.db.entities.policy import POLICY_ORDER, policy_source, policy_status_sql
from open287g.db.models.enums import AgencyType, PolicyStatus

AGENCY = Entity(
    name="Agency",
    table="agencies {t}",
    columns=(
        Column("name", "{t}.name", str),
        Column("type", "{t}.type", AgencyType),
        Column("state", "{t}.state_code", str),
        Column("county", "{t}.county", str | None),
        Column("policy_status", policy_status_sql("{t}.jurisdiction_id"), PolicyStatus),
    ),
    relations=(
        Relation(
            "jurisdiction",
            "Jurisdiction",
            "one",
            "jurisdictions {c} WHERE {c}.id = {t}.jurisdiction_id",
            unique=True,
        ),
        Relation(
            "agreements",
            "Agreement",
            "connection",
            "agreements {c} WHERE {c}.agency_id = {t}.id",
            nullable=False,
            ordering="nested:agreements",
        ),
        Relation(
            "officials",
            "Official",
            "list",
            "officials {c} WHERE {c}.agency_id = {t}.id",
            order="coalesce({c}.evidence_on, {c}.term_start) DESC NULLS LAST, {c}.id",
            nullable=False,
        ),
        Relation(
            "policy",
            "Policy",
            "one",
            policy_source("{t}.jurisdiction_id"),
            order=POLICY_ORDER,
        ),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("name"),
        RestColumn("type"),
        RestColumn("state"),
        RestColumn("county"),
        RestColumn("jurisdiction_id", "jurisdiction.id"),
    ),
)
