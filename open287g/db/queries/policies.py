"""Policies (dated, cited claims about jurisdictions): filter model and keyset pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.bounds import check_filter
from open287g.db.queries.jurisdictions import POLICY_COLUMNS, PolicyRecord
from open287g.db.queries.pagination import Page, id_page

ORDERING = "policies:ID:ASC"


@dataclass(frozen=True)
class PolicyFilter:
    state: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        check_filter(self)


def _where(filters: PolicyFilter) -> tuple[str, dict[str, object]]:
    clauses = ["true"]
    params: dict[str, object] = {}
    if filters.state:
        clauses.append("p.jurisdiction_id IN (SELECT id FROM jurisdictions WHERE state_code = :st)")
        params["st"] = filters.state
    if filters.status:
        clauses.append("CAST(p.status AS text) = :status")
        params["status"] = filters.status
    return " AND ".join(clauses), params


async def policy_page(
    conn: AsyncConnection, filters: PolicyFilter, first: int, after: str | None
) -> Page[PolicyRecord]:
    where, params = _where(filters)
    return await id_page(
        conn,
        select=f"SELECT {POLICY_COLUMNS} FROM policies p",
        alias="p",
        where=where,
        params=params,
        first=first,
        after=after,
        ordering=ORDERING,
        build=lambda row: PolicyRecord(*row),
    )


async def policies_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, PolicyRecord]:
    rows = await conn.execute(
        text(f"SELECT {POLICY_COLUMNS} FROM policies p WHERE p.id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": list(ids)},
    )
    return {row[0]: PolicyRecord(*row) for row in rows}
