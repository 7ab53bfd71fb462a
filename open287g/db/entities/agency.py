"""Agency: a state or local law-enforcement agency as ICE's lists name it, with the
jurisdiction it serves, its agreements, officials and the policy in force there."""

from __future__ import annotations

from open287g.db.entities.declare import Column, Entity, Relation, RestColumn, jurisdiction_of
from open287g.db.entities.policy import policy_relation, policy_status_column
from open287g.db.entities.statistics import AGENCY_SCOPE
from open287g.db.models.enums import AgencyType, PlacementMethod

AGENCY = Entity(
    name="Agency",
    description="A law-enforcement agency as ICE's lists name it: the jurisdiction it "
    "serves, its agreements, its officials and the policy in force there.",
    table="agencies {t}",
    columns=(
        Column("name", "{t}.name", str, "The agency's name as ICE's newest list writes it."),
        Column("type", "{t}.type", AgencyType, "What kind of agency it is (ICE's TYPE column)."),
        Column("state", "{t}.state_code", str, "The two-letter USPS code of its state."),
        Column("county", "{t}.county", str | None, "The county as ICE's list names it, if any."),
        policy_status_column("{t}.jurisdiction_id"),
        Column(
            "placement_method",
            "{t}.placement_method",
            PlacementMethod | None,
            "Which evidence placed it in its jurisdiction (the strongest it has: a reviewed "
            "override, its own name, ICE's COUNTY cell, the TYPE cell, or none: its state).",
        ),
        Column(
            "placement_evidence",
            "{t}.placement_evidence",
            str | None,
            "That evidence in words: the name or cells read, a guessed county's score, the "
            "override's note.",
        ),
        Column(
            "placement_conflict",
            "{t}.placement_conflict",
            str | None,
            "Where ICE's cells about its place contradict each other (TYPE County on a "
            "police department, a COUNTY cell naming another county than its name) and "
            "what won; null when they agree.",
        ),
    ),
    relations=(
        jurisdiction_of("The jurisdiction it serves (a county, place, state or tribe)."),
        Relation(
            "agreements",
            "Agreement",
            "connection",
            "agreements {c} WHERE {c}.agency_id = {t}.id",
            nullable=False,
            ordering="nested:agreements",
            description="Its 287(g) agreements, one per program model, oldest first.",
        ),
        Relation(
            "officials",
            "Official",
            "list",
            "officials {c} WHERE {c}.agency_id = {t}.id",
            order="coalesce({c}.evidence_on, {c}.term_start) DESC NULLS LAST, {c}.id",
            nullable=False,
            description="The officials in charge of it, newest evidence first.",
        ),
        policy_relation("{t}.jurisdiction_id"),
        Relation(
            "served_jurisdictions",
            "Jurisdiction",
            "list",
            "(SELECT sj.*, 0 AS served_rank FROM jurisdictions sj"
            " WHERE sj.id = {t}.jurisdiction_id"
            " UNION ALL SELECT sj.*, 1 FROM jurisdictions sj WHERE sj.state_code = {t}.state_code"
            " AND sj.kind = 'COUNTY' AND sj.id IS DISTINCT FROM {t}.jurisdiction_id"
            " AND sj.fips = ANY(coalesce((SELECT po.county_fips[2:] FROM placement_overrides po"
            " WHERE po.state_code = {t}.state_code AND po.agency_key = {t}.name_key"
            " ORDER BY po.load_run_id IS NULL, po.id DESC LIMIT 1), CAST(ARRAY[] AS text[]))))"
            " {c}",
            order="{c}.served_rank, {c}.fips, {c}.id",
            nullable=False,
            description="Every jurisdiction it serves: its own first, then the further counties "
            "a reviewed placement names (the Albemarle District Jail, NC: Pasquotank, Camden "
            "and Perquimans).",
        ),
        Relation(
            "facilities",
            "Facility",
            "connection",
            "detainer_facilities {c} WHERE {c}.agency_id = {t}.id",
            nullable=False,
            ordering="nested:facilities",
            description="The jails it runs, as detainer releases name them (see each "
            "facility's agencyMethod).",
        ),
        # Computed rows (`statistics`): `source` scopes them to the jails it runs.
        Relation(
            "detainer_stats",
            "DetainerStat",
            "list",
            AGENCY_SCOPE,
            nullable=False,
            description="Detainer counts at the jails it runs, grouped by `groupBy` (the "
            "same disclosure control as `detainerStats`).",
        ),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("name"),
        RestColumn("type"),
        RestColumn("state"),
        RestColumn("county"),
        RestColumn("jurisdiction_id", "jurisdiction.id"),
        RestColumn("placement_method"),
        RestColumn("placement_evidence"),
        RestColumn("placement_conflict"),
    ),
)
