"""Relay building blocks: the Node interface, edges, page info, and the paging arguments
every connection takes (declared once here, for root and nested connections alike)."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import strawberry

from open287g.db.compiler import PageShape
from open287g.db.entities.declare import ID_DESCRIPTION
from open287g.db.queries.pagination import DEFAULT_PAGE, MAX_PAGE

T = TypeVar("T")

First = Annotated[
    int | None,
    strawberry.argument(
        description=f"How many items to show after `after` (0 to {MAX_PAGE}); ignored when "
        "paging backwards with `last` or `before`."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Show the items after this cursor (an edge's `cursor`)."),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description=f"Page backwards: how many items to show before `before`, or at the end "
        f"(0 to {MAX_PAGE}; {DEFAULT_PAGE} when only `before` is given)."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Page backwards: show the items before this cursor. A cursor whose item "
        "has left the list gives an empty page."
    ),
]


@strawberry.interface(description="An object with a global, opaque id (`node(id:)`).")
class Node:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)


@strawberry.type(description="Where a page sits in its connection (Relay's PageInfo).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow this page (paging backwards: whether the `before` "
        "item is still in the list)."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items precede this page (paging forwards: whether `after` was "
        "given, as the Relay spec allows)."
    )
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor (null for an empty page)."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor (null for an empty page): pass it as `after`."
    )


@strawberry.type(description="One item of a connection, with the cursor that points at it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque: pass it as `after` or `before`.")
    node: T = strawberry.field(description="The item.")


# How the compiler lays out a connection: the Python names of the types above (and of
# `total_count`, which every generated connection declares), the names of the types.
RELAY = PageShape(
    items="edges",
    cursor="cursor",
    node="node",
    info="page_info",
    has_next="has_next_page",
    has_previous="has_previous_page",
    start_cursor="start_cursor",
    end_cursor="end_cursor",
    total="total_count",
    type_name="__typename",
    page_type="{}Connection",
    item_type="{}Edge",
    info_type="PageInfo",
)
