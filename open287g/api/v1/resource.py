"""What a /v1 collection is: how it maps onto the shared query layer and into rows
(its own module so that a collection's module can use another's rows)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.api.v1.params import Param
from open287g.db.queries.pagination import Page

Row = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    name: str
    type_name: str
    model: type[BaseModel]
    filters: tuple[Param, ...]
    page: Callable[[AsyncConnection, dict[str, Any], int, str | None], Awaitable[Page[Any]]]
    by_keys: Callable[[AsyncConnection, list[Any]], Awaitable[dict[Any, Any]]]
    to_rows: Callable[[AsyncConnection, Sequence[Any]], Awaitable[list[Row]]]
    key_is_int: bool = True
    # The item (`/v1/{name}/{id}`) may say more than a collection row: its model extends
    # `model`, and `item_extra` adds those fields to the row (never part of a list/export).
    item_model: type[BaseModel] | None = None
    item_extra: Callable[[AsyncConnection, Any], Awaitable[Row]] | None = None
