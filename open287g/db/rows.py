"""The statements of /v1: an entity's REST rows (`open287g.db.flat`) compiled into the ONE
statement that answers a page (the whole JSON body, envelope and `next_cursor` included,
built by PostgreSQL over the query layer's keyset page), an item, or the change feed's
records."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.compiler import Pick, Statement, positional, rows_sql
from open287g.db.entities import COMPUTED, ENTITIES
from open287g.db.entities.declare import Entity, cursor_sql
from open287g.db.flat import Joins, row_sql
from open287g.db.queries.changes import DATA_VERSION_COLUMNS, DATA_VERSION_SQL, NOTICE_SQL
from open287g.db.queries.pagination import PageQuery, limited

# The data version's columns, first in every REST statement's row (`changes.version_of`).
_VERSION_NAMES = "version, modified, oldest, demo, synthetic"
assert len(_VERSION_NAMES.split(",")) == DATA_VERSION_COLUMNS


@dataclass(frozen=True)
class Listing:
    """The rows of a page: the query layer's keyset page (`rows` selects the rows after
    the cursor, in order, with their `sort_value`; `page_sql` limits them) and the
    ordering its cursors name. The rows are in
    (`sort_value`, `id`) order in `direction`, unless `order` (SQL over `{c}`, the page's
    rows) says otherwise, as a connection's `paging` does (a search's rank, best first,
    then id); a cursor is made of `sort_value` and `id` either way. `whole`: the query
    selects every row, shown at once and without a cursor (reference data)."""

    query: PageQuery
    ordering: str = ""
    direction: str = "ASC"
    whole: bool = False
    order: str = ""
    rendered: bool = False  # the rows are current data: their stored rendering may be read


def every_row(entity: Entity, order: str) -> Listing:
    """Every row of the entity's table, in `order` (SQL over `{t}`), shown on one page."""
    table = entity.table.format(t="r")
    rows = f"SELECT r.*, {order.format(t='r')} AS sort_value FROM {table}"
    return Listing(PageQuery("", rows, f"SELECT count(*) FROM {table}", {}), whole=True)


# A statement to run: its text (asyncpg's `$n`) and the values to bind.
Bound = tuple[str, tuple[Any, ...]]


def page_sql(entity: Entity, listing: Listing, limit: int) -> Bound:
    """The statement of one /v1 page of `limit` rows (the one place REST's `limit` is
    applied: the query layer's rows are not limited). Its row: the data version's columns, the next
    cursor (or null), and the response body as UTF-8 bytes: `{"data": [rows],
    "next_cursor": …, "data_version": …}`, with `"notice"` last when demo or synthetic
    data is loaded.
    Its text is made once per shape (entity, filters present, cursor or not, limit)."""
    query = listing.query
    sql, names = _page_text(
        entity.name,
        query.ctes,
        query.rows,
        listing.ordering,
        listing.direction,
        listing.order,
        listing.whole,
        limit,
        (entity.rendered or "") if listing.rendered else "",
    )
    return sql, tuple(query.params[name] for name in names)


@lru_cache(maxsize=1024)
def _page_text(
    name: str,
    ctes: str,
    rows: str,
    ordering: str,
    direction: str,
    listed_order: str,
    whole: bool,
    limit: int,
    rendered: str = "",
) -> tuple[str, tuple[str, ...]]:
    """The page statement's text (asyncpg's `$n`) and the query parameter each `$n` is.
    With `rendered` (the entity's table of stored rows) each row is read from there, and
    built here only when missing (a database migrated by Alembic alone, before `db
    migrate` rendered them) or rendered by another statement than this code's (`_shape`):
    the same text either way."""
    entity = ENTITIES[name]
    stmt = Statement()  # for aliases: the only parameters are the query's own
    page, shown, row = stmt.alias(), stmt.alias(), stmt.alias()
    if whole:
        order = "ORDER BY sort_value"
        shown_sql = f"SELECT *, row_number() OVER ({order}) AS rn FROM {page}"
        cursor = "CAST(NULL AS text)"
    else:
        rank = listed_order.format(c=page) or f"sort_value {direction}, id {direction}"
        order = f"ORDER BY {rank}"
        shown_sql = (
            f"SELECT *, row_number() OVER ({order}) AS rn FROM {page} ORDER BY rn LIMIT {limit:d}"
        )
        last = cursor_sql(ordering, f"{row}.sort_value", f"{row}.id")
        cursor = (
            f"CASE WHEN (SELECT count(*) FROM {page}) > {limit:d} THEN (SELECT {last}"
            f" FROM {shown} {row} ORDER BY {row}.rn DESC LIMIT 1) END"
        )
    joins = Joins(stmt)
    if rendered:
        # json_agg's text: the rows' text between '[' and ']', separated by ', '.
        stored = stmt.alias()
        data = (
            f"coalesce((SELECT '[' || string_agg(coalesce({stored}.body,"
            f" {_built(stmt, entity, f'{row}.id')}), ', ' ORDER BY {row}.rn) || ']'"
            f" FROM {shown} {row} LEFT JOIN {rendered} {stored} ON {stored}.id = {row}.id"
            f" AND {stored}.shape = '{_shape(name)}'), '[]')"
        )
    else:
        body = row_sql(stmt, entity, row, joins)
        data = (
            f"coalesce((SELECT json_agg({body} ORDER BY {row}.rn)"
            f" FROM {shown} {row}{joins.sql}), '[]'::json)"
        )
    envelope = (
        f"""'{{"data":' || ({data})::text || ',"next_cursor":'"""
        " || coalesce(to_json(n.cursor)::text, 'null')"
        """ || ',"data_version":' || v.version"""
        f""" || coalesce(',"notice":' || to_json({NOTICE_SQL})::text, '') || '}}'"""
    )
    sql = (
        f"WITH {f'{ctes}, ' if ctes else ''}{page} AS ({rows if whole else limited(rows, limit)}),"
        f" {shown} AS ({shown_sql}),"
        f" _next AS (SELECT {cursor} AS cursor),"
        f" _version({_VERSION_NAMES}) AS ({DATA_VERSION_SQL})"
        # The body as UTF-8 bytes (bytea): asyncpg hands them over as they are, where
        # text would be decoded into a str only for the response to encode it again.
        f" SELECT v.*, n.cursor, convert_to({envelope}, 'UTF8') FROM _version v, _next n"
    )
    return positional(sql)


def _built(stmt: Statement, entity: Entity, key: str) -> str:
    """A subquery: the JSON text of the entity's REST row whose key is `key`."""
    row, joins = stmt.alias(), Joins(stmt)
    body = row_sql(stmt, entity, row, joins)
    table, own = entity.table.format(t=row), entity.key.format(t=row)
    return f"(SELECT CAST({body} AS text) FROM {table}{joins.sql} WHERE {own} = {key})"


def _render_body(name: str) -> tuple[str, str, str]:
    """(row SQL, FROM clause, key) of the entity's REST row, with fresh aliases."""
    entity = ENTITIES[name]
    stmt = Statement()
    row, joins = stmt.alias(), Joins(stmt)
    body = row_sql(stmt, entity, row, joins)
    return body, f"{entity.table.format(t=row)}{joins.sql}", entity.key.format(t=row)


@lru_cache(maxsize=8)
def _shape(name: str) -> str:
    """What names the statement rows are rendered with: a stored row is read only when
    the loads rendered it as this code builds it (a render statement left behind by a
    change of the row, or rows of an older release, are built instead)."""
    return hashlib.sha256("".join(_render_body(name)).encode()).hexdigest()[:16]


@lru_cache(maxsize=8)
def render_rows_sql(name: str) -> str:
    """The statement that renders every REST row of entity `name` into its `rendered`
    table, writing only the rows whose text changed (deleted ones go with their entity:
    ON DELETE CASCADE). Loads run it in their transaction, after what the rows show is
    written (`db/ingest/ice287g.py`)."""
    table = ENTITIES[name].rendered
    assert table is not None
    body, source, key = _render_body(name)
    return (
        f"INSERT INTO {table} (id, shape, body) SELECT {key}, '{_shape(name)}',"
        f" CAST({body} AS text) FROM {source} ON CONFLICT (id) DO UPDATE"
        f" SET shape = EXCLUDED.shape, body = EXCLUDED.body"
        f" WHERE ({table}.shape, {table}.body) IS DISTINCT FROM (EXCLUDED.shape, EXCLUDED.body)"
    )


def item_sql(entity: Entity, key: Any) -> Bound:
    """The statement of one row by key: its JSON text (no row when there is none)."""
    return _item_text(entity.name), (key,)


@lru_cache(maxsize=64)
def _item_text(name: str) -> str:
    entity = ENTITIES[name]
    stmt = Statement()
    row, joins = stmt.alias(), Joins(stmt)
    body = row_sql(stmt, entity, row, joins)
    table, key = entity.table.format(t=row), entity.key.format(t=row)
    return f"SELECT CAST({body} AS text) FROM {table}{joins.sql} WHERE {key} = $1"


def records_sql(wanted: Mapping[Entity, Sequence[Any]]) -> Bound:
    """The rows of several entities by key, in one statement: a JSON object of
    `{entity name: [[key, row], …]}`."""
    stmt = Statement()
    parts: list[str] = []
    for entity, keys in wanted.items():
        row, joins = stmt.alias(), Joins(stmt)
        key = entity.key.format(t=row)
        pairs = f"json_agg(json_build_array({key}, {row_sql(stmt, entity, row, joins)}))"
        parts.append(
            f"'{entity.name}', coalesce((SELECT {pairs} FROM {entity.table.format(t=row)}"
            f"{joins.sql} WHERE {key} = ANY({stmt.param(list(keys))})), '[]'::json)"
        )
    return _bound(stmt, f"SELECT CAST(json_build_object({', '.join(parts)}) AS text)")


def computed_sql(entity: Entity, args: Mapping[str, Any], scope: Any) -> Bound:
    """The rows a computed entity gives one parent (`scope`, its key) for the field's
    `args` (`Document.pageText(pages:)`): a JSON list of objects of every column, by name."""
    stmt = Statement()
    rows = COMPUTED[entity.name](dict(args), ":scope")  # its own parameter, adopted below
    rows = replace(rows, params={**rows.params, "scope": scope})
    picks = tuple(Pick(column.name, column.name) for column in entity.columns)
    return _bound(stmt, f"SELECT CAST({rows_sql(stmt, entity, rows, picks)} AS text)")


def _bound(stmt: Statement, sql: str) -> Bound:
    text, names = positional(sql)
    return text, tuple(stmt.params[name] for name in names)


async def fetch_row(conn: AsyncConnection, statement: Bound) -> Any:
    """Run one compiled statement on `conn` (in its transaction, if one has begun) through
    asyncpg directly: SQLAlchemy's text() handling of a statement this long costs more
    than PostgreSQL takes to answer it."""
    raw = (await conn.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)
    sql, values = statement
    return await raw.fetchrow(sql, *values)


def main() -> None:
    """Write the agreement rows' render statement where the loads read it
    (`db/ingest/agreement_rows.sql`; a test fails when it drifts)."""
    from open287g.db.ingest.ice287g import RENDERED_SQL_FILE

    RENDERED_SQL_FILE.write_text(render_rows_sql("Agreement") + "\n")
    print(f"wrote {RENDERED_SQL_FILE}")


if __name__ == "__main__":
    main()
