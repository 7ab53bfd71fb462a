"""Agency: a state or local law-enforcement agency as ICE's lists name it, with the
jurisdiction it serves, its agreements, officials and the policy in force there."""

from __future__ import annotations

from open287g.db.entities.declare import Column, Entity, Relation, RestColumn
from open287g.db.entities.policy import policy_relation, policy_status_column
from open287g.db.models.enums import AgencyType

AGENCY = Entity(
    name="Agency",
    table="agencies {t}",
    columns=(
        Column("name", "{t}.name", str),
        Column("type", "{t}.type", AgencyType),
        Column("state", "{t}.state_code", str),
        Column("county", "{t}.county", str | None),
        policy_status_column("{t}.jurisdiction_id"),
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
        policy_relation("{t}.jurisdiction_id"),
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
