"""The /v1 collections of declared entities (`Collection`), on the compiler's path: a page is
ONE statement whose row carries the data version (for ETag and cache headers), the next
cursor (for `Link`) and the response body, built by PostgreSQL and passed through as
bytes. Exports read the same statement in batches from one snapshot; an item and the
change feed's records are one statement each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from open287g.api.v1.resource import Collection, Row
from open287g.db.entities.declare import Entity
from open287g.db.queries.changes import DATA_VERSION_COLUMNS, version_of
from open287g.db.rows import Bound, Listing, fetch_row, item_sql, page_sql, records_sql
from open287g.db.session import export_snapshot
from open287g.web.params import Param, parse_query
from open287g.web.responses import (
    cache_headers,
    etag_for,
    export_response,
    is_conditional,
    next_link,
    versioned,
)

EXPORT_BATCH = 1000
PLANS = 1024  # query strings remembered per collection, compiled
_CURSOR = DATA_VERSION_COLUMNS  # the columns of a page statement's row after the version's
_BODY = DATA_VERSION_COLUMNS + 1

Handler = Callable[[Request], Awaitable[Response]]


def collection_handler(collection: Collection, declared: Sequence[Param]) -> Handler:
    """A query string is parsed and compiled once (`parsed`, then `compiled`): a repeated
    request (a client paging again, a dashboard) skips parameter parsing, the query layer
    and the compiler, and binds only its values. Errors (400) are raised each time, never
    remembered, in the order they always were: parameters, then the version (304), then
    the cursor. The values are shared: read them only."""

    @lru_cache(maxsize=PLANS)
    def parsed(query_string: bytes) -> dict[str, Any]:
        return parse_query(QueryParams(query_string).multi_items(), declared)

    @lru_cache(maxsize=PLANS)
    def compiled(query_string: bytes) -> Bound:
        values = parsed(query_string)
        listing = collection.listing(values, values["cursor"])
        return page_sql(collection.entity, listing, values["limit"])

    async def handler(request: Request) -> Response:
        query_string: bytes = request.scope["query_string"]
        values = parsed(query_string)
        if values["format"] != "json":
            return await _export(request, collection, values)
        engine: AsyncEngine = request.app.state.engine
        async with engine.connect() as conn:
            if is_conditional(request):  # else no 304 is possible: one statement answers
                _, _, cached = await versioned(request, conn)
                if cached is not None:
                    return cached
            if collection.check is not None:
                await collection.check(conn, values)
            row = await fetch_row(conn, compiled(query_string))
        return page_answer(request, row)

    return handler


def page_answer(request: Request, row: Sequence[Any]) -> Response:
    """The response of a page statement's row (`page_sql`): its body as PostgreSQL built
    it, the cache headers of its data version, and `Link` to the next page."""
    version = version_of(row)
    headers = cache_headers(etag_for(request, version), version)
    if row[_CURSOR]:
        headers["Link"] = next_link(request, "cursor", row[_CURSOR])
    return Response(row[_BODY], status_code=200, media_type="application/json", headers=headers)


async def _export(request: Request, collection: Collection, values: dict[str, Any]) -> Response:
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as conn:
        version, headers, cached = await versioned(request, conn)
        if cached is None and collection.check is not None:
            await collection.check(conn, values)
    if cached is not None:
        return cached
    collection.listing(values, values["cursor"])  # a bad cursor: 400 now
    filename = f"open287g-{collection.name}-v{version.version}"
    columns = [column.name for column in collection.entity.rest]
    batches = _export_batches(engine, collection, values)
    return await export_response(request, values["format"], columns, batches, filename, headers)


async def _export_batches(
    engine: AsyncEngine, collection: Collection, values: dict[str, Any]
) -> AsyncIterator[list[dict[str, Any]]]:
    def listing(cursor: str | None) -> Listing:
        return collection.listing(values, cursor)

    async for rows in export_pages(engine, collection.entity, listing, values["cursor"]):
        yield rows


async def export_pages(
    engine: AsyncEngine,
    entity: Entity,
    listing: Callable[[str | None], Listing],
    cursor: str | None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row from `cursor` on, in pages of EXPORT_BATCH (the page statement of
    `listing(cursor)`) from one snapshot (REPEATABLE READ), so an export is consistent
    even if a load commits while it is read."""
    async with export_snapshot(engine) as conn:
        while True:
            row = await fetch_row(conn, page_sql(entity, listing(cursor), EXPORT_BATCH))
            yield orjson.loads(row[_BODY])["data"]
            cursor = row[_CURSOR]
            if cursor is None:
                return


async def item_row(collection: Collection, conn: AsyncConnection, key: Any) -> Row | None:
    """One row by key, and what the item adds to it (None: no such row)."""
    found = await fetch_row(conn, item_sql(collection.entity, key))
    if found is None:
        return None
    row: Row = orjson.loads(found[0])
    if collection.item_extra is not None:
        row.update(await collection.item_extra(conn, key))
    return row


async def records(
    conn: AsyncConnection, wanted: Mapping[Entity, Sequence[Any]]
) -> dict[tuple[str, Any], Any]:
    """The current REST rows of these entities' keys, by (entity name, key)."""
    if not any(wanted.values()):
        return {}
    [found] = await fetch_row(conn, records_sql({e: k for e, k in wanted.items() if k}))
    return {(name, key): row for name, pairs in orjson.loads(found).items() for key, row in pairs}
