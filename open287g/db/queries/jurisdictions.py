"""Jurisdictions and their policy status: filter model, pages, batch lookups, states."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.bounds import check_filter
from open287g.db.queries.id_pages import IdPages
from open287g.db.queries.pagination import Page, contains_pattern, id_page

ORDERING = "jurisdictions:ID:ASC"


@dataclass(frozen=True)
class JurisdictionFilter:
    state: str | None = None
    kind: str | None = None
    name_contains: str | None = None

    def __post_init__(self) -> None:
        check_filter(self)


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
    declared_sanctuary: bool
    policy_name: str | None
    effective_date: dt.date | None
    source_title: str | None
    source_url: str | None
    notes: str | None


COLUMNS = ", ".join(f"j.{f.name}" for f in fields(JurisdictionRecord))
POLICY_COLUMNS = ", ".join(f"p.{f.name}" for f in fields(PolicyRecord))


def _where(filters: JurisdictionFilter) -> tuple[str, dict[str, object]]:
    clauses = ["true"]
    params: dict[str, object] = {}
    if filters.state:
        clauses.append("j.state_code = :state")
        params["state"] = filters.state
    if filters.kind:
        clauses.append("CAST(j.kind AS text) = :kind")
        params["kind"] = filters.kind
    if filters.name_contains:
        clauses.append("j.name ILIKE :name ESCAPE '\\'")
        params["name"] = contains_pattern(filters.name_contains)
    return " AND ".join(clauses), params


PAGES = IdPages("jurisdictions j", "j", ORDERING, _where)
jurisdiction_page_query = PAGES.page_query  # REST's and GraphQL's page of jurisdictions


async def jurisdiction_page(
    conn: AsyncConnection, filters: JurisdictionFilter, first: int, after: str | None
) -> Page[JurisdictionRecord]:
    where, params = _where(filters)
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
    """The policy in force for each jurisdiction: its own latest effective one, else its
    parent's, else its grandparent's (a city inherits its county's, then its state's)."""
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
            ORDER BY c.target, c.depth, p.effective_date DESC NULLS LAST, p.id DESC
            """
        ),
        {"ids": list(jurisdiction_ids)},
    )
    found: dict[int, PolicyRecord | None] = dict.fromkeys(jurisdiction_ids)
    for row in rows:
        found[row[0]] = PolicyRecord(*row[1:])
    return found
