"""Facilities (the jails of detainer releases): filter model and keyset pages, both APIs."""

from __future__ import annotations

from open287g.db.queries.detainers import FACILITY_AGENCY, FACILITY_JURISDICTION, FACILITY_STATE
from open287g.db.queries.filters import Filter, Filters, Where
from open287g.db.queries.id_pages import IdPages
from open287g.db.queries.pagination import contains_pattern

ORDERING = "facilities:ID:ASC"

FACILITY_FILTERS = Filters(
    (
        FACILITY_STATE,
        FACILITY_JURISDICTION,
        FACILITY_AGENCY,
        Filter(
            "code",
            "text",
            "Only the facility with this code (ORANGCA), any case.",
            "f.code = :code",
            bind=lambda code: code.strip().upper(),
        ),
        Filter(
            "name_contains",
            "text",
            "Only facilities whose name contains this text (any case).",
            "f.name ILIKE :name_contains ESCAPE '\\'",
            bind=contains_pattern,
            rest="q",
        ),
    )
)


class FacilityFilter(Where):
    declared = FACILITY_FILTERS


PAGES = IdPages("detainer_facilities f", "f", ORDERING, FacilityFilter.where)
facility_page_query = PAGES.page_query  # REST's and GraphQL's page of facilities
