"""Facilities (the jails of detainer releases): filter model and keyset pages, both APIs."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.bounds import check_filter
from open287g.db.queries.detainers import facility_conditions
from open287g.db.queries.id_pages import IdPages
from open287g.db.queries.ids import check_filter_ids, optional_int_key
from open287g.db.queries.pagination import contains_pattern

ORDERING = "facilities:ID:ASC"


@dataclass(frozen=True)
class FacilityFilter:
    state: str | None = None  # USPS code, already resolved by the caller
    jurisdiction_id: int | None = None  # in this jurisdiction (`in_jurisdiction`)
    agency_id: int | None = None  # run by this agency
    code: str | None = None  # ICE's facility code, exactly (any case)
    name_contains: str | None = None

    def __post_init__(self) -> None:
        check_filter(self)


def facility_filter(
    state: str | None = None,
    *,
    jurisdiction: str | None = None,
    agency: str | None = None,
    code: str | None = None,
    name_contains: str | None = None,
) -> FacilityFilter:
    """Both APIs' arguments: `jurisdiction` and `agency` are global ids (`BadId` else)."""
    return FacilityFilter(
        state,
        optional_int_key(jurisdiction, "Jurisdiction"),
        optional_int_key(agency, "Agency"),
        code,
        name_contains,
    )


async def check_facility_filter_ids(conn: AsyncConnection, filters: FacilityFilter) -> None:
    """A BadId when the filter's jurisdiction or agency id names no row."""
    await check_filter_ids(
        conn,
        {
            "jurisdiction": ("Jurisdiction", filters.jurisdiction_id),
            "agency": ("Agency", filters.agency_id),
        },
    )


def _where(filters: FacilityFilter) -> tuple[str, dict[str, object]]:
    clauses, params = facility_conditions(filters.state, filters.jurisdiction_id, filters.agency_id)
    if filters.code:
        clauses.append("f.code = :code")
        params["code"] = filters.code.strip().upper()
    if filters.name_contains:
        clauses.append("f.name ILIKE :name ESCAPE '\\'")
        params["name"] = contains_pattern(filters.name_contains)
    return " AND ".join(clauses), params


PAGES = IdPages("detainer_facilities f", "f", ORDERING, _where)
facility_page_query = PAGES.page_query  # REST's and GraphQL's page of facilities
