"""A table paged in id order under a filter (agencies, jurisdictions): declared once per
table as data, so each collection's page query is not a function of its own repeating
`id_page_query`'s arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from open287g.db.queries.pagination import PageQuery, id_page_query

F = TypeVar("F")


@dataclass(frozen=True)
class IdPages(Generic[F]):
    """`source` (`table alias`) in `alias.id` order, cursors of `ordering`; `where` turns
    a filter into its conditions over `alias` and their parameters."""

    source: str
    alias: str
    ordering: str
    where: Callable[[F], tuple[str, dict[str, object]]]

    def page_query(self, filters: F, after: str | None) -> PageQuery:
        where, params = self.where(filters)
        return id_page_query(
            source=self.source,
            alias=self.alias,
            where=where,
            params=params,
            after=after,
            ordering=self.ordering,
        )
