"""Policies (dated, cited claims about jurisdictions): filter model and keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.bounds import check_filter
from open287g.db.queries.jurisdictions import POLICY_COLUMNS, PolicyRecord
from open287g.db.queries.pagination import Page, PageQuery, id_page, id_page_query

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


def _keyset(filters: PolicyFilter, after: str | None) -> dict[str, Any]:
    """What a page of policies is, for `id_page` (records) and `id_page_query` (SQL)."""
    where, params = _where(filters)
    return {
        "alias": "p",
        "where": where,
        "params": params,
        "after": after,
        "ordering": ORDERING,
    }


async def policy_page(
    conn: AsyncConnection, filters: PolicyFilter, first: int, after: str | None
) -> Page[PolicyRecord]:
    return await id_page(
        conn,
        columns=POLICY_COLUMNS,
        source="policies p",
        build=lambda row: PolicyRecord(*row),
        first=first,
        **_keyset(filters, after),
    )


def policy_page_query(filters: PolicyFilter, after: str | None) -> PageQuery:
    return id_page_query(source="policies p", **_keyset(filters, after))
