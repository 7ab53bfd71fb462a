"""Relay building blocks: the Node interface, edges, page info, and slicing nested lists
with the same cursors as top-level connections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import strawberry

from open287g.db.queries.pagination import Page, decode_cursor, encode_cursor, page_size

T = TypeVar("T")


@strawberry.interface(description="An object with a global, opaque id (`node(id:)`).")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


def slice_nested(
    items: Sequence[T], ids: Sequence[int], first: int | None, after: str | None, ordering: str
) -> tuple[list[Edge[T]], PageInfo]:
    """Paginate a nested list already in id order (nested lists are short: an agency has
    at most four agreements), with the same cursors as top-level connections."""
    size = page_size(first)
    start = 0
    if after:
        last = decode_cursor(after, ordering).id
        start = next((i for i, item_id in enumerate(ids) if item_id > last), len(ids))
    chosen = range(start, min(start + size, len(items)))
    edges = [Edge(cursor=encode_cursor(ordering, ids[i], ids[i]), node=items[i]) for i in chosen]
    return edges, PageInfo(
        has_next_page=start + size < len(items), end_cursor=edges[-1].cursor if edges else None
    )


def page_edges(page: Page[Any], nodes: Sequence[T]) -> tuple[list[Edge[T]], PageInfo]:
    """Edges of a top-level page: the page's cursors paired with its GraphQL nodes."""
    edges = [Edge(cursor=c, node=n) for c, n in zip(page.cursors, nodes, strict=True)]
    return edges, PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor)
