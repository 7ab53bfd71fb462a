"""Agencies and their officials: filter model, keyset pages, batch lookups."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.models.enums import AgencyType
from open287g.db.queries.filters import STATE_WORDS, Filter, Filters, Where
from open287g.db.queries.id_pages import IdPages
from open287g.db.queries.search import folded_contains, search_value

ORDERING = "agencies:ID:ASC"


AGENCY_FILTERS = Filters(
    (
        Filter("state", "state", STATE_WORDS, "a.state_code = :state"),
        Filter(
            "type",
            "enum",
            "Only agencies of this type.",
            "CAST(a.type AS text) = :type",
            enum=AgencyType,
        ),
        Filter(
            "name_contains",
            "text",
            "Only agencies whose name contains this text (any case).",
            lambda value: (folded_contains("a.name_fold", "name"), {"name": search_value(value)}),
            rest="q",
        ),
    )
)


class AgencyFilter(Where):
    declared = AGENCY_FILTERS


@dataclass(frozen=True)
class AgencyRecord:
    id: int
    state_code: str
    name: str
    type: str
    county: str | None
    jurisdiction_id: int | None
    placement_method: str | None = None  # PlacementMethod; null before migration 0025 filled it
    placement_evidence: str | None = None
    placement_conflict: str | None = None


@dataclass(frozen=True)
class OfficialRecord:
    id: int
    agency_id: int
    name: str
    title: str | None
    term_start: dt.date | None
    term_end: dt.date | None
    source_url: str | None
    document_id: int | None = None  # set when read from an MOA's signature
    document_sha256: str | None = None
    source_page: int | None = None
    evidence_on: dt.date | None = None
    is_current: bool = False


COLUMNS = ", ".join(f"a.{f.name}" for f in fields(AgencyRecord))


PAGES = IdPages("agencies a", "a", ORDERING, AgencyFilter.where)
agency_page_query = PAGES.page_query  # REST's and GraphQL's page of agencies


async def agencies_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, AgencyRecord]:
    rows = await conn.execute(
        text(f"SELECT {COLUMNS} FROM agencies a WHERE a.id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": list(ids)},
    )
    return {row[0]: AgencyRecord(*row) for row in rows}


async def officials_of_agencies(
    conn: AsyncConnection, agency_ids: Sequence[int]
) -> dict[int, list[OfficialRecord]]:
    rows = await conn.execute(
        text(
            "SELECT o.id, o.agency_id, o.name, o.title, o.term_start, o.term_end, o.source_url,"
            " o.document_id, d.sha256, o.source_page, o.evidence_on,"
            # the most recent evidence of someone whose term has not ended is current
            " row_number() OVER (PARTITION BY o.agency_id ORDER BY"
            "   (o.term_end IS NOT NULL AND o.term_end < current_date),"
            "   coalesce(o.evidence_on, o.term_start) DESC NULLS LAST, o.id) = 1"
            " AND (o.term_end IS NULL OR o.term_end >= current_date)"
            " FROM officials o LEFT JOIN documents d ON d.id = o.document_id"
            " WHERE o.agency_id = ANY(CAST(:ids AS bigint[]))"
            " ORDER BY o.agency_id, coalesce(o.evidence_on, o.term_start) DESC NULLS LAST, o.id"
        ),
        {"ids": list(agency_ids)},
    )
    found: dict[int, list[OfficialRecord]] = {agency_id: [] for agency_id in agency_ids}
    for row in rows:
        found[row[1]].append(OfficialRecord(*row))
    return found


async def agencies_within(
    conn: AsyncConnection, jurisdiction_id: int, limit: int
) -> list[AgencyRecord]:
    """Agencies serving a jurisdiction or a place inside it (a county's sheriff and its
    towns' police), by name; at most `limit`."""
    rows = await conn.execute(
        text(
            f"SELECT {COLUMNS} FROM agencies a WHERE a.jurisdiction_id IN ("
            " SELECT CAST(:id AS bigint) UNION ALL"
            " SELECT w.id FROM jurisdictions w WHERE w.parent_id = :id)"
            " ORDER BY a.name, a.id LIMIT :limit"
        ),
        {"id": jurisdiction_id, "limit": limit},
    )
    return [AgencyRecord(*row) for row in rows]
