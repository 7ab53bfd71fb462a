"""Policy: one source's assertion about a jurisdiction's law or rule on cooperating with
ICE; every assertion is kept, side by side, and the status in force is derived by the
rule in `db/queries/policy_rule.py`."""

from __future__ import annotations

import datetime as dt

from open287g.db.entities.declare import (
    Column,
    Entity,
    Relation,
    RestColumn,
    gid_sql,
    jurisdiction_of,
)
from open287g.db.models.enums import PolicyBasis, PolicyStatus
from open287g.db.queries.policy_rule import POLICY_ORDER, policy_source, policy_value_sql


def policy_status_sql(jurisdiction_sql: str) -> str:
    return policy_value_sql(jurisdiction_sql, "CAST(pol.status AS text)", "'UNKNOWN'")


def policy_relation(jurisdiction_sql: str) -> Relation:
    """`policy`: the assertion in force for the jurisdiction `jurisdiction_sql` (SQL over
    `{t}`), of an entity that has one (a jurisdiction, an agency's)."""
    return Relation(
        "policy",
        "Policy",
        "one",
        policy_source(jurisdiction_sql),
        order=POLICY_ORDER,
        description="The assertion the status in force comes from "
        "(docs/data.md, 'Loading jurisdiction policies').",
    )


def policy_status_column(jurisdiction_sql: str, description: str | None = None) -> Column:
    """`policy_status`: the status of that policy, `UNKNOWN` when none is in force."""
    return Column(
        "policy_status",
        policy_status_sql(jurisdiction_sql),
        PolicyStatus,
        description
        or "Derived from every assertion: the most specific jurisdiction first (its own, its "
        "county's, its state's), then law over designation over report, then the most recent "
        "source; UNKNOWN when none is in force.",
    )


POLICY_SOURCE = Entity(
    name="PolicySource",
    table="policies {t}",
    node=False,
    description="Who asserts it, and when they said it.",
    columns=(
        Column("title", "{t}.source_title", str | None, "The source's title."),
        Column("url", "{t}.source_url", str | None, "The source's URL."),
        Column(
            "date",
            "{t}.source_date",
            dt.date | None,
            "When the source said it (its publication), not when the policy began.",
        ),
    ),
)

POLICY = Entity(
    name="Policy",
    table="policies {t}",
    description="One source's assertion about a jurisdiction; sources may disagree.",
    columns=(
        Column(
            "status",
            "{t}.status",
            PolicyStatus,
            "What the source says the jurisdiction does with ICE requests.",
        ),
        Column(
            "basis",
            "{t}.basis",
            PolicyBasis,
            "LAW (the jurisdiction's own law or policy), DESIGNATION (a government's label, "
            "e.g. the DOJ's list) or REPORT (a publication naming it).",
        ),
        Column(
            "declared_sanctuary",
            "{t}.declared_sanctuary",
            bool | None,
            "The jurisdiction's own declaration; null when the source says nothing of one.",
        ),
        Column(
            "policy_name",
            "{t}.policy_name",
            str | None,
            "The law, ordinance or policy named, if any.",
        ),
        Column(
            "effective_date", "{t}.effective_date", dt.date | None, "When it took effect, if known."
        ),
        Column("source_title", "{t}.source_title", str | None, "The source's title."),
        Column("source_url", "{t}.source_url", str | None, "The source's URL."),
        Column(
            "source_date",
            "{t}.source_date",
            dt.date | None,
            "When the source said it (its publication), not when the policy began.",
        ),
        Column("notes", "{t}.notes", str | None, "What the source says, briefly."),
        Column(
            "jurisdiction_id",
            gid_sql("Jurisdiction", "{t}.jurisdiction_id"),
            str,
            "The id of the jurisdiction it is about.",
            graphql=False,
        ),
    ),
    relations=(
        jurisdiction_of("The jurisdiction it is about.", nullable=False),
        Relation("source", "PolicySource", "embed", nullable=False, description="Who asserts it."),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("jurisdiction_id"),
        RestColumn("status"),
        RestColumn("basis"),
        RestColumn("declared_sanctuary"),
        RestColumn("policy_name"),
        RestColumn("effective_date"),
        RestColumn("source_title"),
        RestColumn("source_url"),
        RestColumn("source_date"),
        RestColumn("notes"),
    ),
)
