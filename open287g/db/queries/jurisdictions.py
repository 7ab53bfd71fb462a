"""Jurisdictions and their policy status: filter model, pages, batch lookups, states."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.models.enums import JurisdictionKind
from open287g.db.queries.filters import STATE_WORDS, Filter, Filters, Where
from open287g.db.queries.id_pages import IdPages
from open287g.db.queries.pagination import Page, contains_pattern, id_page
from open287g.db.queries.policy_rule import POLICY_ORDER

ORDERING = "jurisdictions:ID:ASC"


JURISDICTION_FILTERS = Filters(
    (
        Filter("state", "state", STATE_WORDS, "j.state_code = :state"),
        Filter(
            "kind",
            "enum",
            "Only jurisdictions of this kind: STATE, COUNTY, PLACE (city, town) or TRIBAL.",
            "CAST(j.kind AS text) = :kind",
            enum=JurisdictionKind,
        ),
        Filter(
            "name_contains",
            "text",
            "Only jurisdictions whose name contains this text (any case).",
            "j.name ILIKE :name_contains ESCAPE '\\'",
            bind=contains_pattern,
            rest="q",
        ),
    )
)


class JurisdictionFilter(Where):
    declared = JURISDICTION_FILTERS


@dataclass(frozen=True)
class JurisdictionRecord:
    id: int
    kind: str
    name: str
    state_code: str
    fips: str | None
    parent_id: int | None


@dataclass(frozen=True)
class PolicyRecord:
    id: int
    jurisdiction_id: int
    status: str
    declared_sanctuary: bool | None
    policy_name: str | None
    effective_date: dt.date | None
    source_title: str | None
    source_url: str | None
    notes: str | None
    basis: str
    source_date: dt.date | None


COLUMNS = ", ".join(f"j.{f.name}" for f in fields(JurisdictionRecord))
POLICY_COLUMNS = ", ".join(
    f"CAST(p.{f.name} AS text)" if f.name in ("status", "basis") else f"p.{f.name}"
    for f in fields(PolicyRecord)
)
# The derivation rule, declared once (`db/queries/policy_rule.py`), over this module's aliases.
_ORDER = POLICY_ORDER.replace("{c}_chain", "c").replace("{c}", "p")


PAGES = IdPages("jurisdictions j", "j", ORDERING, JurisdictionFilter.where)
jurisdiction_page_query = PAGES.page_query  # REST's and GraphQL's page of jurisdictions


async def jurisdiction_page(
    conn: AsyncConnection, filters: JurisdictionFilter, first: int, after: str | None
) -> Page[JurisdictionRecord]:
    where, params = filters.where()
    return await id_page(
        conn,
        columns=COLUMNS,
        source="jurisdictions j",
        alias="j",
        where=where,
        params=params,
        first=first,
        after=after,
        ordering=ORDERING,
        build=lambda row: JurisdictionRecord(*row),
    )


async def jurisdictions_by_ids(
    conn: AsyncConnection, ids: Sequence[int]
) -> dict[int, JurisdictionRecord]:
    rows = await conn.execute(
        text(f"SELECT {COLUMNS} FROM jurisdictions j WHERE j.id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": list(ids)},
    )
    return {row[0]: JurisdictionRecord(*row) for row in rows}


async def effective_policies(
    conn: AsyncConnection, jurisdiction_ids: Sequence[int]
) -> dict[int, PolicyRecord | None]:
    """The assertion in force for each jurisdiction, by the derivation rule of
    `db/queries/policy_rule.py` (the most specific jurisdiction, law over designation over
    report, the most recent source)."""
    rows = await conn.execute(
        text(
            f"""
            WITH chain AS (
                SELECT j.id AS target, j.id AS holder, 0 AS depth FROM jurisdictions j
                WHERE j.id = ANY(CAST(:ids AS bigint[]))
                UNION ALL SELECT j.id, j.parent_id, 1 FROM jurisdictions j
                WHERE j.id = ANY(CAST(:ids AS bigint[])) AND j.parent_id IS NOT NULL
                UNION ALL SELECT j.id, p.parent_id, 2 FROM jurisdictions j
                JOIN jurisdictions p ON p.id = j.parent_id
                WHERE j.id = ANY(CAST(:ids AS bigint[])) AND p.parent_id IS NOT NULL
            )
            SELECT DISTINCT ON (c.target) c.target, {POLICY_COLUMNS}
            FROM chain c JOIN policies p ON p.jurisdiction_id = c.holder
            WHERE p.effective_date IS NULL OR p.effective_date <= current_date
            ORDER BY c.target, {_ORDER}
            """
        ),
        {"ids": list(jurisdiction_ids)},
    )
    found: dict[int, PolicyRecord | None] = dict.fromkeys(jurisdiction_ids)
    for row in rows:
        found[row[0]] = PolicyRecord(*row[1:])
    return found


async def policies_of(
    conn: AsyncConnection, jurisdiction_ids: Sequence[int]
) -> dict[int, list[PolicyRecord]]:
    """Every assertion about each jurisdiction itself, side by side (law first, then
    designation, then report; the most recent source first)."""
    rows = await conn.execute(
        text(
            f"SELECT {POLICY_COLUMNS} FROM policies p"
            " WHERE p.jurisdiction_id = ANY(CAST(:ids AS bigint[]))"
            " ORDER BY p.jurisdiction_id, p.basis, p.source_date DESC NULLS LAST, p.id"
        ),
        {"ids": list(jurisdiction_ids)},
    )
    found: dict[int, list[PolicyRecord]] = {i: [] for i in jurisdiction_ids}
    for row in rows:
        found[row[1]].append(PolicyRecord(*row))
    return found


async def children_of(conn: AsyncConnection, jurisdiction_id: int) -> list[JurisdictionRecord]:
    """The jurisdictions directly inside one (a state's counties, a county's places)."""
    rows = await conn.execute(
        text(f"SELECT {COLUMNS} FROM jurisdictions j WHERE j.parent_id = :id ORDER BY j.name"),
        {"id": jurisdiction_id},
    )
    return [JurisdictionRecord(*row) for row in rows]


@dataclass(frozen=True)
class SourceCoverage:
    """What one policy source covers: how many states, and how many counties and places,
    it asserts something about (a headline names its sources with these)."""

    title: str
    date: dt.date | None
    states: int
    local: int


async def source_coverage(conn: AsyncConnection) -> list[SourceCoverage]:
    rows = await conn.execute(
        text(
            "SELECT coalesce(min(p.source_title), 'an untitled source'), max(p.source_date),"
            " count(DISTINCT j.id) FILTER (WHERE j.kind = 'STATE'),"
            " count(DISTINCT j.id) FILTER (WHERE j.kind <> 'STATE')"
            " FROM policies p JOIN jurisdictions j ON j.id = p.jurisdiction_id"
            " GROUP BY p.source_key ORDER BY 3 DESC, 4 DESC, 1"
        )
    )
    return [SourceCoverage(str(r[0]), r[1], int(r[2]), int(r[3])) for r in rows]
