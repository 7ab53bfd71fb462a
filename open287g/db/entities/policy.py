"""Policy: a jurisdiction's law or rule on cooperating with ICE, and the one in force for
any jurisdiction (its own, else its county's, else its state's)."""

from __future__ import annotations

import datetime as dt

from open287g.db.entities.declare import Column, Entity, Relation, RestColumn, gid_sql
from open287g.db.models.enums import PolicyStatus


def policy_source(jurisdiction_sql: str) -> str:
    """FROM clause of the policies in force for the jurisdiction `jurisdiction_sql` (an
    SQL expression) or its parent or grandparent, each row with its `{c}_chain.depth`:
    take the first by `POLICY_ORDER` (a city inherits its county's, then its state's)."""
    j = jurisdiction_sql
    return (
        "policies {c} JOIN ("
        f"SELECT {j} AS holder, 0 AS depth"
        f" UNION ALL SELECT pj.parent_id, 1 FROM jurisdictions pj WHERE pj.id = {j}"
        " UNION ALL SELECT gp.parent_id, 2 FROM jurisdictions pj"
        f" JOIN jurisdictions gp ON gp.id = pj.parent_id WHERE pj.id = {j}"
        ") {c}_chain ON {c}.jurisdiction_id = {c}_chain.holder"
        " WHERE {c}.effective_date IS NULL OR {c}.effective_date <= current_date"
    )


POLICY_ORDER = "{c}_chain.depth, {c}.effective_date DESC NULLS LAST, {c}.id DESC"


def policy_value_sql(jurisdiction_sql: str, value: str, default: str = "NULL") -> str:
    """One value (`value` over the alias `pol`) of the policy in force, as a column."""
    source = policy_source(jurisdiction_sql).replace("{c}", "pol")
    order = POLICY_ORDER.replace("{c}", "pol")
    return f"coalesce((SELECT {value} FROM {source} ORDER BY {order} LIMIT 1), {default})"


def policy_status_sql(jurisdiction_sql: str) -> str:
    return policy_value_sql(jurisdiction_sql, "CAST(pol.status AS text)", "'UNKNOWN'")


def policy_relation(jurisdiction_sql: str) -> Relation:
    """`policy`: the policy in force for the jurisdiction `jurisdiction_sql` (SQL over `{t}`),
    of an entity that has one (a jurisdiction, an agency's)."""
    return Relation("policy", "Policy", "one", policy_source(jurisdiction_sql), order=POLICY_ORDER)


def policy_status_column(jurisdiction_sql: str, description: str | None = None) -> Column:
    """`policy_status`: the status of that policy, `UNKNOWN` when none is in force."""
    return Column("policy_status", policy_status_sql(jurisdiction_sql), PolicyStatus, description)


POLICY = Entity(
    name="Policy",
    table="policies {t}",
    columns=(
        Column("status", "{t}.status", PolicyStatus),
        Column("declared_sanctuary", "{t}.declared_sanctuary", bool),
        Column("policy_name", "{t}.policy_name", str | None),
        Column("effective_date", "{t}.effective_date", dt.date | None),
        Column("source_title", "{t}.source_title", str | None),
        Column("source_url", "{t}.source_url", str | None),
        Column("notes", "{t}.notes", str | None),
        Column(
            "jurisdiction_id",
            gid_sql("Jurisdiction", "{t}.jurisdiction_id"),
            str,
            graphql=False,
        ),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("jurisdiction_id"),
        RestColumn("status"),
        RestColumn("declared_sanctuary"),
        RestColumn("policy_name"),
        RestColumn("effective_date"),
        RestColumn("source_title"),
        RestColumn("source_url"),
        RestColumn("notes"),
    ),
)
