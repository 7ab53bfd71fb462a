"""Facility: a jail named in ICE's detainer releases, keyed by its code (ORANGCA is not
ORANGFL), placed in its county and linked to the agency running it, each with how it was
found; its detainer totals, exact (no personal attribute: see docs/disclosure.md)."""

from __future__ import annotations

from open287g.db.entities.declare import (
    Column,
    Entity,
    Relation,
    RestColumn,
    by_key,
    jurisdiction_of,
)
from open287g.db.entities.statistics import FACILITY_SCOPE
from open287g.db.queries import detainers


def _total(outcome: str | None = None) -> str:
    """SQL: the facility `{t}`'s detainers over every month loaded (of one outcome)."""
    only = f" AND ft.outcome = '{outcome}'" if outcome else ""
    return (
        "(SELECT coalesce(sum(ft.detainers), 0) FROM detainer_totals ft"
        f" WHERE ft.facility_id = {{t}}.id{only})"
    )


# declined / (issued − pending), as `DetainerStat.declineRate` computes it, in one read.
_DECLINE_RATE = (
    "(SELECT CAST(coalesce(sum(ft.detainers) FILTER (WHERE ft.outcome = 'DECLINED_BY_AGENCY'),"
    " 0) AS float8)"
    " / nullif(sum(ft.detainers) FILTER (WHERE ft.outcome <> 'PENDING'), 0)"
    " FROM detainer_totals ft WHERE ft.facility_id = {t}.id)"
)

FACILITY = Entity(
    name="Facility",
    description="A jail or other facility named in ICE's detainer releases, one per "
    "facility code: placed in its county, linked to the agency running it (with how each "
    "was found), and its detainer totals (exact).",
    table="detainer_facilities {t}",
    columns=(
        Column(
            "code",
            "nullif({t}.code, '')",
            str | None,
            "ICE's detention facility code (ORANGCA: the Orange County jail of California); "
            "null for a facility only releases without codes name.",
        ),
        Column("name", "{t}.name", str, "Its name as the newest release writes it."),
        Column("city", "{t}.city", str | None, "Its city as the release writes it, if given."),
        Column("state", "{t}.state_code", str | None, "The two-letter USPS code of its state."),
        Column(
            "county_fips",
            "{t}.county_fips",
            str | None,
            "Five-digit FIPS code of the county it is placed in; null where none was found.",
        ),
        Column(
            "placement_method",
            "{t}.placement_method",
            str | None,
            "How the county was found: facility-name:<match> (the county its name gives: "
            "exact, similarity…), facility-city (its city through the gazetteer), "
            "facility-city:county-named (a city that is a county) or override (reviewed).",
        ),
        Column(
            "placement_score",
            "{t}.placement_score",
            float | None,
            "Score (0-100) of the county match.",
        ),
        Column(
            "agency_method",
            "{t}.agency_method",
            str | None,
            "How the agency running it was found: county-sheriff (the one sheriff's office "
            "of its county) or override (reviewed); null: no agency linked.",
        ),
        Column(
            "agency_score",
            "{t}.agency_score",
            float | None,
            "Score (0-100) of the agency link (the county match's score for county-sheriff).",
        ),
        Column("issued", _total(), int, "Detainers ICE issued to it, every month loaded."),
        Column(
            "declined",
            _total("DECLINED_BY_AGENCY"),
            int,
            "Detainers it declined, every month loaded.",
        ),
        Column("pending", _total("PENDING"), int, "Detainers not yet decided."),
        Column("decline_rate", _DECLINE_RATE, float | None, detainers.DECLINE_RATE_DESCRIPTION),
    ),
    relations=(
        jurisdiction_of("The county it is placed in (see placementMethod); null where none."),
        by_key(
            "agency",
            "Agency",
            "agencies",
            "agency_id",
            "The agency running it (see agencyMethod); null where none is linked.",
        ),
        # Computed rows (`statistics`): `source` scopes them to this facility.
        Relation(
            "detainer_stats",
            "DetainerStat",
            "list",
            FACILITY_SCOPE,
            nullable=False,
            description="Its detainer counts grouped by `groupBy` (the same disclosure "
            "control as `detainerStats`).",
        ),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("code"),
        RestColumn("name"),
        RestColumn("city"),
        RestColumn("state"),
        RestColumn("county_fips"),
        RestColumn("jurisdiction_id", "jurisdiction.id"),
        RestColumn("placement_method"),
        RestColumn("placement_score"),
        RestColumn("agency_id", "agency.id"),
        RestColumn("agency_method"),
        RestColumn("agency_score"),
        RestColumn("issued"),
        RestColumn("declined"),
        RestColumn("pending"),
        RestColumn("decline_rate"),
    ),
)
