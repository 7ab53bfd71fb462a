"""Jurisdiction: a state, county, city or tribal area, inside its parent; the agencies
serving it (or any jurisdiction inside it) and the policy in force there."""

from __future__ import annotations

from open287g.db.entities.declare import Column, Entity, Relation, RestColumn
from open287g.db.entities.policy import policy_relation, policy_status_column
from open287g.db.entities.statistics import JURISDICTION_SCOPE
from open287g.db.models.enums import JurisdictionKind
from open287g.db.queries.detainers import in_jurisdiction
from open287g.db.queries.policy_rule import policy_value_sql

# The jurisdiction `{t}` and every jurisdiction inside it (children, grandchildren): three
# lookups by parent_id's index (one predicate ORing them made PostgreSQL scan the table for
# every jurisdiction: a page of 20 states with their agencies took 6.6 ms, now 5.4 ms).
_WITHIN = (
    "(SELECT {t}.id"
    " UNION ALL SELECT w.id FROM jurisdictions w WHERE w.parent_id = {t}.id"
    " UNION ALL SELECT w2.id FROM jurisdictions w1 JOIN jurisdictions w2"
    " ON w2.parent_id = w1.id WHERE w1.parent_id = {t}.id)"
)

JURISDICTION = Entity(
    name="Jurisdiction",
    description="A state, county (or equivalent), place or tribal nation: where agencies "
    "serve and policies apply.",
    table="jurisdictions {t}",
    columns=(
        Column(
            "kind",
            "{t}.kind",
            JurisdictionKind,
            "State, county (or equivalent), place, or tribal nation.",
        ),
        Column(
            "name", "{t}.name", str, "Its name, as the Census gazetteer or ICE's list writes it."
        ),
        Column("state_code", "{t}.state_code", str, "The two-letter USPS code of its state."),
        Column(
            "fips",
            "{t}.fips",
            str | None,
            "Its Census FIPS code (2 digits a state, 5 a county, 7 a place), if known: every "
            "state and county has one; a place only when a loaded policy row gives it (no "
            "Census place list is installed; docs/data.md).",
        ),
        policy_status_column("{t}.id"),
        Column(
            "declared_sanctuary",
            policy_value_sql("{t}.id", "pol.declared_sanctuary"),
            bool | None,
            "The declaration of the assertion in force; null when it says nothing of one.",
        ),
    ),
    relations=(
        Relation(
            "parent",
            "Jurisdiction",
            "one",
            "jurisdictions {c} WHERE {c}.id = {t}.parent_id",
            unique=True,
            description="The jurisdiction it lies in (a county's state); null for a state.",
        ),
        policy_relation("{t}.id"),
        Relation(
            "policies",
            "Policy",
            "list",
            "policies {c} WHERE {c}.jurisdiction_id = {t}.id",
            order="{c}.basis, {c}.source_date DESC NULLS LAST, {c}.id",
            nullable=False,
            description="Every assertion about this jurisdiction itself, from every source "
            "(those about the places around it are theirs: see `policy` for the one in force).",
        ),
        Relation(
            "agencies",
            "Agency",
            "connection",
            f"agencies {{c}} WHERE {{c}}.jurisdiction_id IN {_WITHIN}",
            nullable=False,
            ordering="nested:agencies",
            description="Agencies serving it or any jurisdiction inside it.",
        ),
        Relation(
            "agreements",
            "Agreement",
            "connection",
            "agreements {c} WHERE {c}.agency_id IN (SELECT wa.id FROM agencies wa"
            f" WHERE wa.jurisdiction_id IN {_WITHIN})",
            nullable=False,
            ordering="nested:agreements",
            description="Agreements of the agencies serving it.",
        ),
        Relation(
            "facilities",
            "Facility",
            "connection",
            f"detainer_facilities {{c}} WHERE {in_jurisdiction('{c}', '{t}')}",
            nullable=False,
            ordering="nested:facilities",
            description="The jails in it: a state's every facility, a county's those placed "
            "in it, a place's those of its city or of a county wholly inside it.",
        ),
        # Computed rows (`statistics`): `source` scopes them to this jurisdiction.
        Relation(
            "detainer_stats",
            "DetainerStat",
            "list",
            JURISDICTION_SCOPE,
            nullable=False,
            description="Detainer counts at the jails in it (those of `facilities`), grouped "
            "by `groupBy` (the same disclosure control as `detainerStats`).",
        ),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("kind"),
        RestColumn("name"),
        RestColumn("state", "state_code"),
        RestColumn("fips"),
        RestColumn("parent_id", "parent.id"),
    ),
)
