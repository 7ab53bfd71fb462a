"""The compiler: a selection over declared entities (`open287g.db.entities`) becomes ONE SQL
statement whose result is the answer's JSON, built by PostgreSQL.

The input is a small tree of `Pick`s (output key, declared field name, arguments, the
picks below it) that both APIs produce: GraphQL from a validated operation
(`open287g.graphql.plan`), REST from its row declarations. Every object is a
`json_build_object` over one row; a `one` relation is a correlated subquery (or, when
only the key it joins on is asked, that foreign key: `agency { id }`), a `list`
a `json_agg`, a connection a keyset page (`WITH page …`) with its items, cursors, where it sits
and count. Client values never enter the SQL text: they are bound parameters.

The compiler has no names of its own for a connection's parts or for type names: the
front end that asks passes its `PageShape` on the `Statement` (GraphQL's is Relay's,
`open287g.graphql.relay.RELAY`); a statement without one compiles no connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import asyncpg
import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.db.entities import COMPUTED, ENTITIES
from open287g.db.entities.computed import Setting
from open287g.db.entities.declare import (
    Column,
    ConnectionOrder,
    Entity,
    Relation,
    cursor_sql,
    from_json,
    gid_sql,
    json_sql,
)
from open287g.db.queries.pagination import (
    PageQuery,
    Rows,
    Window,
    decode_cursor,
    limited,
    window,
)

# json_build_object takes at most 100 arguments: 50 keys.
MAX_KEYS = 50


class NotCompilable(Exception):
    """The selection asks for something the declarations do not describe in SQL."""


@dataclass(frozen=True)
class Pick:
    key: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    picks: tuple[Pick, ...] | None = None


@dataclass(frozen=True)
class PageShape:
    """How a front end lays out a keyset page of rows as JSON: the pick names of its parts
    (the items, each with its `cursor` and `node`; the page's info: whether rows follow or
    precede, the first and last cursors; the total count), the pick name that asks for an
    object's type name, and the type names it answers (`str.format` templates over the
    entity's name)."""

    items: str
    cursor: str
    node: str
    info: str
    has_next: str
    has_previous: str
    start_cursor: str
    end_cursor: str
    total: str
    type_name: str
    page_type: str
    item_type: str
    info_type: str


@dataclass
class Statement:
    """Aliases and parameters of one statement being built, and the `shape` its pages
    take (None: it compiles no page and no type name)."""

    params: dict[str, Any] = field(default_factory=dict)
    counter: int = 0
    shape: PageShape | None = None

    @property
    def page_shape(self) -> PageShape:
        if self.shape is None:
            raise NotCompilable("a page without a shape")
        return self.shape

    def alias(self) -> str:
        self.counter += 1
        return f"_t{self.counter}"

    def param(self, value: Any) -> str:
        self.counter += 1
        name = f"_p{self.counter}"
        self.params[name] = value
        return f":{name}"

    def adopt(self, sql: str, params: dict[str, Any]) -> str:
        """Take in SQL written with its own `:names`, renamed so they cannot collide."""
        self.counter += 1
        prefix = f"_q{self.counter}_"
        for name, value in params.items():
            self.params[prefix + name] = value
        return _NAMED.sub(lambda m: f":{prefix}{m.group(1)}", sql)


def _literal(key: str) -> str:
    if not re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", key):
        raise NotCompilable(f"key {key!r}")
    return f"'{key}'"


def object_sql(stmt: Statement, entity: Entity, alias: str, picks: Sequence[Pick]) -> str:
    """json_build_object(...) of `picks` over the entity's row `alias`."""
    if len(picks) > MAX_KEYS:
        raise NotCompilable("too many keys for one object")
    parts = [f"{_literal(p.key)}, {value_sql(stmt, entity, alias, p)}" for p in picks]
    return f"json_build_object({', '.join(parts)})"


def value_sql(stmt: Statement, entity: Entity, alias: str, pick: Pick) -> str:
    if stmt.shape is not None and pick.name == stmt.shape.type_name:
        return f"'{entity.name}'"
    if pick.name == "id" and entity.node:
        return gid_sql(entity.name, entity.key.format(t=alias))
    declared = entity.get(pick.name)
    if isinstance(declared, Column):
        return json_sql(declared, alias)
    if isinstance(declared, Relation):
        return relation_sql(stmt, declared, alias, pick)
    if pick.name.startswith("__key"):
        return entity.key.format(t=alias)
    raise NotCompilable(f"{entity.name}.{pick.name}")


def _below(pick: Pick) -> tuple[Pick, ...]:
    if pick.picks is None:
        raise NotCompilable(f"{pick.name} needs a selection")
    return pick.picks


def relation_sql(stmt: Statement, relation: Relation, alias: str, pick: Pick) -> str:
    target = ENTITIES.get(relation.target)
    if target is None:
        raise NotCompilable(relation.target)
    if relation.kind == "embed":
        body = object_sql(stmt, target, alias, _below(pick))
        if relation.source:
            return f"CASE WHEN {relation.source.format(t=alias)} THEN {body} END"
        return body
    if relation.kind == "list" and target.name in COMPUTED:
        # Rows computed from the field's arguments, scoped to this row by `source`.
        computed = COMPUTED[target.name](pick.args, relation.source.format(t=alias))
        return rows_sql(stmt, target, computed, _below(pick))
    child = stmt.alias()
    source = relation.source.format(t=alias, c=child)
    order = f" ORDER BY {relation.order.format(c=child)}" if relation.order else ""
    if relation.kind == "one":
        keyed = _keyed_sql(stmt, relation, target, alias, _below(pick))
        if keyed is not None:
            return keyed
        body = object_sql(stmt, target, child, _below(pick))
        return f"(SELECT {body} FROM {source}{order} LIMIT 1)"
    if relation.kind == "list":
        body = object_sql(stmt, target, child, _below(pick))
        return f"coalesce((SELECT json_agg({body}{order}) FROM {source}), '[]'::json)"
    return nested_connection_sql(stmt, relation, target, source, child, pick)


def joined_on_key(relation: Relation, target: Entity) -> str | None:
    """The foreign key (SQL over `{t}`) when the relation's condition is exactly
    `<the target's key> = <it>` (`{c}.id = {t}.agency_id`), else None."""
    _, _, condition = relation.source.partition(" WHERE ")
    key, equals, value = condition.partition(" = ")
    if not equals or key != target.key.format(t="{c}") or "{c}" in value:
        return None
    if any(word in value.upper() for word in (" AND ", " OR ", "SELECT")):
        return None
    return value


def _keyed_sql(
    stmt: Statement, relation: Relation, target: Entity, alias: str, picks: Sequence[Pick]
) -> str | None:
    """A `unique` relation through a foreign key (`joined_on_key`) of which only the
    target's key, id or type name is asked (`agency { id }`): the object built from this
    row's foreign key, with no subquery (null when the key is); else None."""
    if not relation.unique or relation.order:
        return None
    found = joined_on_key(relation, target)
    if found is None:
        return None
    key = found.format(t=alias)
    parts: list[str] = []
    for pick in picks:
        if pick.name == "id" and target.node:
            value = gid_sql(target.name, key)
        elif pick.name.startswith("__key"):
            value = key
        elif stmt.shape is not None and pick.name == stmt.shape.type_name:
            value = f"'{target.name}'"
        else:
            return None
        parts.append(f"{_literal(pick.key)}, {value}")
    return f"(CASE WHEN ({key}) IS NOT NULL THEN json_build_object({', '.join(parts)}) END)"


def nested_connection_sql(
    stmt: Statement, relation: Relation, target: Entity, source: str, child: str, pick: Pick
) -> str:
    """A connection below an object, in the relation's `paging` order, with the same
    cursors the fallback resolvers give (ordering `relation.ordering`)."""
    args = pick.args
    shown = window(args.get("first"), args.get("after"), args.get("last"), args.get("before"))
    paging = relation.paging
    inner = f"SELECT {child}.*, {paging.value.format(c=child)} AS sort_value FROM {source}"
    where = "true"
    if shown.query_after:
        condition, params = paging.after(decode_cursor(shown.query_after, relation.ordering))
        where = stmt.adopt(condition.format(c="q"), params)
    rows = f"SELECT q.* FROM ({inner}) q WHERE {where} ORDER BY {paging.order.format(c='q')}"
    count = f"SELECT count(*) FROM {source}"
    return connection_sql(
        stmt, target, rows, count, shown, relation.ordering, "ASC", pick, paging=paging
    )


def connection_sql(
    stmt: Statement,
    target: Entity,
    rows: str,
    count: str,
    shown: Window,
    ordering: str,
    direction: str,
    pick: Pick,
    ctes: str = "",
    paging: ConnectionOrder | None = None,
) -> str:
    """A keyset page as a connection. `rows` selects the target's rows after the cursor
    (every row, backwards), in order, with their `sort_value`, not limited: forwards, the
    page reads `shown.size + 1` of them (`limited`: one more than shown says there is a
    next page); backwards, every row, numbered, of which the `size` before the `before`
    cursor's row (or the last `size`) are shown. `count` counts them all (run
    only when the shape's `total` is asked). The rows are in (`sort_value`, `id`) order in
    `direction`, their cursors made of those two, unless `paging` gives the order and the
    cursor's id (its `value` is the `sort_value`)."""
    page, selected, row = stmt.alias(), stmt.alias(), stmt.alias()
    if paging is None:
        rank = f"sort_value {direction}, id {direction}"
        cursor = cursor_sql(ordering, f"{row}.sort_value", f"{row}.id")
    else:
        rank = paging.order.format(c=page)
        cursor = cursor_sql(ordering, f"{row}.sort_value", paging.id.format(c=row))
    numbered = f"SELECT *, row_number() OVER (ORDER BY {rank}) AS rn FROM {page}"
    if shown.backward:
        everything, stop = stmt.alias(), stmt.alias()
        row_id = "id" if paging is None else paging.id.format(c=everything)
        # Where the window ends: the `before` row's place (none if it left the list: an
        # empty page), or past the last row.
        at = (
            f"(SELECT rn FROM {everything} WHERE {row_id} = "
            f"{stmt.param(decode_cursor(shown.before, ordering).id)})"
            if shown.before
            else f"(SELECT count(*) + 1 FROM {everything})"
        )
        slices = (
            f"{everything} AS ({numbered}), {stop} AS (SELECT {at} AS at),"
            f" {selected} AS (SELECT {everything}.* FROM {everything}, {stop}"
            f" WHERE rn < {stop}.at AND rn >= {stop}.at - {shown.size})"
        )
        previous = f"coalesce((SELECT at - {shown.size} > 1 FROM {stop}), false)"
        following = (
            f"coalesce((SELECT at <= (SELECT count(*) FROM {everything}) FROM {stop}), false)"
        )
    else:
        slices = f"{selected} AS ({numbered} ORDER BY rn LIMIT {shown.size})"
        previous = "true" if shown.after else "false"
        following = f"((SELECT count(*) FROM {page}) > {shown.size})"
    shape = stmt.page_shape

    def items(part: Pick) -> str:
        item = _item_sql(stmt, target, row, cursor, part)
        return (
            f"coalesce((SELECT json_agg({item} ORDER BY {row}.rn) FROM {selected} {row}),"
            " '[]'::json)"
        )

    parts = _shape_parts(
        pick,
        {
            shape.items: items,
            shape.info: lambda part: _info_sql(
                shape, selected, row, cursor, previous, following, part
            ),
            shape.total: lambda _: f"({count})",
            shape.type_name: lambda _: _type_name(shape.page_type, target.name),
        },
    )
    with_ = f"{ctes}, " if ctes else ""
    read = rows if shown.backward else limited(rows, shown.size)
    return f"(WITH {with_}{page} AS ({read}), {slices} SELECT json_build_object({parts}))"


def _type_name(template: str, entity: str = "") -> str:
    """A type name of the shape's, for the entity named `entity`, as an SQL literal."""
    name = template.format(entity)
    if not re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", name):
        raise NotCompilable(f"type name {name!r}")
    return f"'{name}'"


def _shape_parts(pick: Pick, values: Mapping[str, Callable[[Pick], str]]) -> str:
    """The `key, value` pairs of a json_build_object over the page shape's parts that
    `pick` selects, in its order: each part's value from `values` by the part's name in
    the shape; a part not there is not compilable."""
    parts: list[str] = []
    for part in _below(pick):
        value = values.get(part.name)
        if value is None:
            raise NotCompilable(part.name)
        parts.append(f"{_literal(part.key)}, {value(part)}")
    return ", ".join(parts)


def _item_sql(stmt: Statement, target: Entity, row: str, cursor: str, pick: Pick) -> str:
    shape = stmt.page_shape
    parts = _shape_parts(
        pick,
        {
            shape.cursor: lambda _: cursor,
            shape.node: lambda part: object_sql(stmt, target, row, _below(part)),
            shape.type_name: lambda _: _type_name(shape.item_type, target.name),
        },
    )
    return f"json_build_object({parts})"


def _info_sql(
    shape: PageShape,
    selected: str,
    row: str,
    cursor: str,
    previous: str,
    following: str,
    pick: Pick,
) -> str:
    """Where the page sits. Forwards, whether rows precede is whether an
    `after` cursor was given (Relay lets a server answer so rather than look back);
    backwards, whether rows follow is whether the `before` row is still in the list."""
    first = f"(SELECT {cursor} FROM {selected} {row} ORDER BY {row}.rn LIMIT 1)"
    last = f"(SELECT {cursor} FROM {selected} {row} ORDER BY {row}.rn DESC LIMIT 1)"
    parts = _shape_parts(
        pick,
        {
            shape.has_next: lambda _: following,
            shape.has_previous: lambda _: previous,
            shape.start_cursor: lambda _: first,
            shape.end_cursor: lambda _: last,
            shape.type_name: lambda _: _type_name(shape.info_type),
        },
    )
    return f"json_build_object({parts})"


def root_connection_sql(
    stmt: Statement,
    target: Entity,
    query: PageQuery,
    shown: Window,
    ordering: str,
    direction: str,
    pick: Pick,
    paging: ConnectionOrder | None = None,
) -> str:
    """A top-level page of the query layer's `PageQuery` (filters, order, cursor, `asOf`);
    `paging` as for `connection_sql` (its `after` is the query's business)."""
    ctes = stmt.adopt(query.ctes, query.params) if query.ctes else ""
    rows = stmt.adopt(query.rows, query.params)
    count = stmt.adopt(query.count, query.params)
    return connection_sql(stmt, target, rows, count, shown, ordering, direction, pick, ctes, paging)


def lookup_sql(stmt: Statement, entity: Entity, key: Any, picks: Sequence[Pick]) -> str:
    """One entity by key (`node(id:)`), or null."""
    alias = stmt.alias()
    body = object_sql(stmt, entity, alias, picks)
    where = f"{entity.key.format(t=alias)} = {stmt.param(key)}"
    return f"(SELECT {body} FROM {entity.table.format(t=alias)} WHERE {where})"


def rows_sql(stmt: Statement, entity: Entity, rows: Rows, picks: Sequence[Pick]) -> str:
    """Rows of an entity (every row of its table, or computed rows), as a JSON list."""
    alias = stmt.alias()
    body = object_sql(stmt, entity, alias, picks)
    source = stmt.adopt(rows.source.replace("{c}", alias), rows.params)
    return (
        f"coalesce((SELECT json_agg({body} ORDER BY {rows.order.replace('{c}', alias)})"
        f" FROM {source}), '[]'::json)"
    )


def table_rows(entity: Entity, order: str) -> Rows:
    """Every row of the entity's table, in `order` (over `{t}`)."""
    return Rows(entity.table.format(t="{c}"), order.format(t="{c}"), {})


def batch_sql(
    stmt: Statement, entity: Entity, relation: Relation, keys: Sequence[Any], pick: Pick
) -> str:
    """For the fallback resolvers: a relation of many parents at once, as a JSON list of
    `[key, value]` pairs (one statement per relation and level)."""
    alias = stmt.alias()
    key = entity.key.format(t=alias)
    value = relation_sql(stmt, relation, alias, pick)
    return (
        f"coalesce((SELECT json_agg(json_build_array({key}, {value}))"
        f" FROM {entity.table.format(t=alias)} WHERE {key} = ANY({stmt.param(list(keys))})),"
        " '[]'::json)"
    )


def rows_by_keys_sql(
    stmt: Statement, entity: Entity, keys: Sequence[Any], picks: Sequence[Pick]
) -> str:
    """Rows of an entity by key, as a JSON list of `[key, object]` pairs: the batch of the
    identity relation (the row itself, embedded)."""
    itself = Relation("__self", entity.name, "embed")
    return batch_sql(stmt, entity, itself, keys, Pick("__self", "__self", {}, tuple(picks)))


async def fetch_json(
    engine: AsyncEngine, stmt: Statement, expression: str, settings: object = None
) -> Any:
    """Run one JSON expression built on `stmt` and decode its value (a `Setting`
    parameter takes its value from `settings`)."""
    sql, names = positional(f"SELECT CAST({expression} AS text)")
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        text = await raw.fetchval(sql, *bind([stmt.params[n] for n in names], settings))
    return None if text is None else orjson.loads(text)


async def read_objects(
    conn: AsyncConnection, entity: Entity, rows: Rows, picks: Sequence[Pick]
) -> list[SimpleNamespace]:
    """`entity`'s objects over `rows` in one statement on `conn` (the list GraphQL
    compiles), each value the Python type its column declares (`typed`): for readers in
    this process, as the HTML pages."""
    stmt = Statement()
    sql, names = positional(f"SELECT CAST({rows_sql(stmt, entity, rows, picks)} AS text)")
    raw = (await conn.get_raw_connection()).driver_connection
    assert isinstance(raw, asyncpg.Connection)
    text = await raw.fetchval(sql, *(stmt.params[name] for name in names))
    return [typed(entity, picks, value) for value in orjson.loads(text)]


def typed(entity: Entity, picks: Sequence[Pick], value: dict[str, Any]) -> SimpleNamespace:
    """A compiled object with its columns as their declared Python types (dates, enums),
    its relations' objects likewise, by pick key."""
    found: dict[str, Any] = {}
    for pick in picks:
        declared, item = entity.get(pick.name), value[pick.key]
        if isinstance(declared, Column):
            item = from_json(declared.type, item)
        elif isinstance(declared, Relation) and item is not None:
            target, below = ENTITIES[declared.target], _below(pick)
            if declared.kind == "list":
                item = [typed(target, below, one) for one in item]
            elif declared.kind in ("one", "embed"):
                item = typed(target, below, item)
        found[pick.key] = item
    return SimpleNamespace(**found)


def bind(values: Sequence[Any], settings: object) -> list[Any]:
    """The values to send: each `Setting` replaced by that field of `settings`."""
    return [getattr(settings, v.name) if isinstance(v, Setting) else v for v in values]


def all_columns(entity: Entity) -> tuple[Pick, ...]:
    """Every column and embedded object of an entity, with its key: what the fallback
    resolvers build objects from."""
    picks: list[Pick] = [Pick("__key", "__key")]
    for column in entity.columns:
        if column.graphql:
            picks.append(Pick(column.name, column.name))
    for relation in entity.relations:
        if relation.kind == "embed":
            picks.append(
                Pick(relation.name, relation.name, {}, all_columns(ENTITIES[relation.target]))
            )
    return tuple(picks)


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@lru_cache(maxsize=1024)
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """`:name` parameters → asyncpg's `$n`, with the names in order (cached per shape)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)
