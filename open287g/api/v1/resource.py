"""What a /v1 collection is (its own module so that a collection's module can use another's
rows): a `Collection` of a declared entity, whose rows, row model and every page follow
from the entity's REST columns."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, create_model
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings
from open287g.db.entities.declare import Entity
from open287g.db.flat import rest_fields
from open287g.db.rows import Listing
from open287g.web.params import Param

Row = dict[str, Any]


@cache
def row_model(entity: Entity) -> type[BaseModel]:
    """The pydantic model of the entity's REST row (`AgencyRow`), for OpenAPI, the /docs
    page and datapackage.json: its REST columns, typed and described."""
    fields: dict[str, Any] = {
        f.name: (f.type, Field(description=f.description)) for f in rest_fields(entity)
    }
    model: type[BaseModel] = create_model(f"{entity.name}Row", __doc__=entity.description, **fields)
    return model


@dataclass(frozen=True)
class Collection:
    """A collection of a declared entity. `listing` maps the request's filters and cursor
    onto the query layer's page; one statement answers the page, of the request's size
    (`open287g.db.rows.page_sql`)."""

    name: str
    entity: Entity
    filters: tuple[Param, ...]
    listing: Callable[[dict[str, Any], str | None], Listing]
    # The item (`/v1/{name}/{id}`) may say more than a collection row: its model extends
    # the row's, and `item_extra` adds those fields by the row's key (never in a list).
    item_model: type[BaseModel] | None = None
    item_extra: Callable[[AsyncConnection, Any], Awaitable[Row]] | None = None
    # Checks the filters' ids name rows (a 400 else) before the page statement; run only
    # when one is given (`check_filter_ids`).
    check: Callable[[AsyncConnection, dict[str, Any]], Awaitable[None]] | None = None

    @property
    def type_name(self) -> str:
        return self.entity.name

    @property
    def model(self) -> type[BaseModel]:
        return row_model(self.entity)

    @property
    def key_is_int(self) -> bool:
        return self.entity.key_type is int


@dataclass(frozen=True)
class StatQuery:
    """What a statistic's request asks: its rows in batches over a connection (`rows`;
    JSON reads them on the request's connection, an export again from one snapshot),
    `check` run on the connection first (the filters' ids name rows), extra headers."""

    rows: Callable[[AsyncConnection], AsyncIterator[list[Row]]]
    check: Callable[[AsyncConnection], Awaitable[None]] | None = None
    headers: dict[str, str] | None = None


@dataclass(frozen=True)
class Statistic:
    """A /v1/stats/{name} collection: rows of the computed entity `entity` grouped by
    some of `dimensions` (`group_by`), each row its grouped keys then the entity's
    columns; JSON, or a CSV/NDJSON export. `params` are its filters and options (FORMAT
    among them); `query` reads them (and the app's settings) into a `StatQuery`, before
    any database work, so a malformed value is a 400 first."""

    name: str
    summary: str
    entity: Entity
    model: type[BaseModel]
    dimensions: type[enum.StrEnum]
    example: str  # a `group_by` of this statistic's own, for its error message
    params: tuple[Param, ...]
    query: Callable[[Settings, dict[str, Any], list[Any]], StatQuery]

    @property
    def columns(self) -> tuple[str, ...]:
        """The row's columns after its keys."""
        return tuple(c.name for c in self.entity.columns if c.rest)
