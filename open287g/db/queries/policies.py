"""Policies (dated, cited claims about jurisdictions): filter model and keyset pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.models.enums import PolicyStatus
from open287g.db.queries.filters import STATE_WORDS, Filter, Filters, Where
from open287g.db.queries.id_pages import IdPages
from open287g.db.queries.jurisdictions import POLICY_COLUMNS, PolicyRecord
from open287g.db.queries.pagination import Page, id_page

ORDERING = "policies:ID:ASC"


POLICY_FILTERS = Filters(
    (
        Filter(
            "state",
            "state",
            STATE_WORDS,
            "p.jurisdiction_id IN (SELECT id FROM jurisdictions WHERE state_code = :state)",
        ),
        Filter(
            "status",
            "enum",
            "Only policies with this status.",
            "CAST(p.status AS text) = :status",
            enum=PolicyStatus,
        ),
    )
)


class PolicyFilter(Where):
    declared = POLICY_FILTERS


def _keyset(filters: PolicyFilter, after: str | None) -> dict[str, Any]:
    """What a page of policies is, for `id_page` (records) and `id_page_query` (SQL)."""
    where, params = filters.where()
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


PAGES = IdPages("policies p", "p", ORDERING, PolicyFilter.where)
policy_page_query = PAGES.page_query  # REST's page of policies
