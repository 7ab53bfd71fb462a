"""The policy in force, in SQL (read by the Policy and Jurisdiction entities and by the
jurisdiction queries): every assertion is kept, side by side, and the status in force is
derived.

The derivation rule (README "Policies"), for a jurisdiction or an agency (its place's):
1. the most specific jurisdiction that has an assertion in force (effective date not in
   the future) wins: its own, else its parent's (a place's county), else its grandparent's
   (the state): a state's law applies to everyone in it unless something more specific
   says otherwise, and a city's policy to its police department;
2. among that jurisdiction's assertions, law over designation over report (`basis`);
3. then the most recent source (`source_date`), then the latest effective date.
"""

from __future__ import annotations


def policy_source(jurisdiction_sql: str) -> str:
    """FROM clause of the policies in force for the jurisdiction `jurisdiction_sql` (an
    SQL expression) or its parent or grandparent, each row with its `{c}_chain.depth`:
    take the first by `POLICY_ORDER`."""
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


# The rule's order (module doc); `policy_basis` sorts LAW, DESIGNATION, REPORT (its enum order).
POLICY_ORDER = (
    "{c}_chain.depth, {c}.basis, {c}.source_date DESC NULLS LAST,"
    " {c}.effective_date DESC NULLS LAST, {c}.id DESC"
)


def policy_value_sql(jurisdiction_sql: str, value: str, default: str = "NULL") -> str:
    """One value (`value` over the alias `pol`) of the policy in force, as a column."""
    source = policy_source(jurisdiction_sql).replace("{c}", "pol")
    order = POLICY_ORDER.replace("{c}", "pol")
    return f"coalesce((SELECT {value} FROM {source} ORDER BY {order} LIMIT 1), {default})"
