"""How an entity is declared: once, as data, and everything else follows from it.

An `Entity` lists its columns (API name, SQL over the entity's row, Python type,
description) and its relations (the rows they reach, as a FROM clause correlated to the
parent row). From that one declaration:

- the compiler (`open287g.db.compiler`) turns any selection into ONE SQL statement that
  builds the answer's JSON in PostgreSQL;
- the GraphQL types and their fallback resolvers are generated
  (`open287g.graphql.entity_types`);
- the REST rows, their CSV columns and OpenAPI schemas are generated (`open287g.api.v1`).

SQL templates use `{t}` for the entity's own row alias and, in a relation's `source`, `{c}`
for the related row's alias; the compiler gives every level its own aliases.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from open287g.db.queries.ids import gid_sql

if TYPE_CHECKING:
    from open287g.db.queries.pagination import Keyset

__all__ = ["gid_sql"]  # declared with the ids it writes (`db/queries/ids.py`)

RelationKind = Literal["one", "list", "connection", "embed"]

# A column's type when its value is another entity's global id (`gid_sql`): GraphQL's ID.
GlobalId = typing.NewType("GlobalId", str)


@dataclass(frozen=True)
class Column:
    """A value of the entity's row. `name` is the Python (and REST) name; GraphQL
    camel-cases it. `type` is the Python type the APIs declare (`dt.date | None`, an enum,
    `list[str]`)."""

    name: str
    sql: str
    type: Any
    description: str | None = None
    graphql: bool = True
    rest: bool = True
    deprecation: str | None = None  # GraphQL's deprecation reason


@dataclass(frozen=True)
class ConnectionOrder:
    """How a connection pages (SQL over its rows' alias `{c}`): `order` sorts them (ending
    with a unique column, so the order is total); a cursor carries `value` and `id`
    (`cursor_sql`); `after` turns a decoded cursor of the relation's `ordering` into the
    condition the rows after it meet (with `:name` parameters) and those parameters, or
    raises BadCursor for a value this API did not issue."""

    order: str
    value: str
    id: str
    after: Callable[[Keyset], tuple[str, dict[str, Any]]]


def _after_id(keyset: Keyset) -> tuple[str, dict[str, Any]]:
    return "{c}.id > :after_id", {"after_id": keyset.id}


# The default: id order, cursors `[ordering, id, id]`.
ID_ORDER = ConnectionOrder("{c}.id", "{c}.id", "{c}.id", _after_id)


@dataclass(frozen=True)
class Relation:
    """Rows of another entity reached from this one. `source` is `<table> {c} WHERE …`
    (anything a FROM clause takes, correlated to `{t}`); `order` sorts them (a `one`
    relation takes the first). `embed` builds the target's columns over this same row
    (where it has a `source`, a condition over `{t}`, it is null unless that holds).

    A connection pages by its `paging` (default: id order)."""

    name: str
    target: str
    kind: RelationKind
    source: str = ""
    order: str = ""
    nullable: bool = True
    description: str | None = None
    ordering: str = ""  # a connection's cursor ordering name ("nested:agreements")
    # A `one` relation that matches at most one row (a foreign key to a unique key): a flat
    # REST row joins it once (LEFT JOIN … ON the source's condition) for all its values.
    unique: bool = False
    paging: ConnectionOrder = ID_ORDER


def by_key(
    name: str, target: str, table: str, column: str, description: str, *, nullable: bool = True
) -> Relation:
    """A `one` relation through a foreign key: the `table` row whose id is `{t}.column`."""
    return Relation(
        name,
        target,
        "one",
        f"{table} {{c}} WHERE {{c}}.id = {{t}}.{column}",
        nullable=nullable,
        unique=True,
        description=description,
    )


def jurisdiction_of(description: str, *, nullable: bool = True) -> Relation:
    """The `jurisdiction` of a row that has a `jurisdiction_id` (agencies, facilities,
    policies)."""
    return by_key(
        "jurisdiction", "Jurisdiction", "jurisdictions", "jurisdiction_id", description,
        nullable=nullable,
    )  # fmt: skip


@dataclass(frozen=True)
class RestColumn:
    """One column of the entity's REST row, in CSV column order. `name` is what REST, CSV,
    NDJSON, datapackage.json and the change feed call it; `path` the declared field it
    shows (default: `name`): a column, `id`, or a path through `one` relations
    (`agency.name`). Its type, nullability and description follow from that field;
    `description` replaces the field's where REST words it differently."""

    name: str
    path: str = ""
    description: str | None = None

    @property
    def field(self) -> str:
        return self.path or self.name


@dataclass(frozen=True)
class Entity:
    """One API type. `table` is what a lookup by key reads (`node(id:)`); `node` says it
    implements Node (`id` is the global id `Name:key`)."""

    name: str
    table: str
    columns: tuple[Column, ...]
    relations: tuple[Relation, ...] = ()
    key: str = "{t}.id"
    node: bool = True
    description: str | None = None
    key_type: type = int
    rest: tuple[RestColumn, ...] = ()  # its REST row (`open287g.db.rows`); none: no collection
    # A table (id, body) holding each REST row rendered when data loads (a read model the
    # loads keep: `open287g.db.rows.render_rows_sql`); pages of current data read it.
    rendered: str | None = None
    # GraphQL fields to list before the columns (the schema's order: a statistic's `key`).
    first: tuple[str, ...] = ()
    _by_name: dict[str, Column | Relation] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        items: tuple[Column | Relation, ...] = (*self.columns, *self.relations)
        for item in items:
            if item.name in self._by_name:
                raise ValueError(f"{self.name}.{item.name} is declared twice")
            self._by_name[item.name] = item

    def get(self, name: str) -> Column | Relation | None:
        return self._by_name.get(name)

    def words(self, name: str) -> str | None:
        """The description `name` is declared with: hand-written REST rows that show the
        same value take these words, so both APIs say the same thing."""
        declared = self._by_name.get(name)
        return declared.description if declared is not None else None


ID_DESCRIPTION = (
    "Global and opaque: `node(id:)` finds the object again, and REST takes the same id."
)


def cursor_sql(ordering: str, value_sql: str, id_sql: str) -> str:
    """SQL for `encode_cursor()`: base64url of `["ordering",value,id]`. `ordering` is
    always this code's own constant (never client text)."""
    assert "'" not in ordering, ordering
    assert '"' not in ordering, ordering
    return (
        f"rtrim(translate(encode(convert_to('[\"{ordering}\",' || to_json({value_sql})::text"
        f" || ',' || ({id_sql})::text || ']', 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    )


@cache
def optional(annotation: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed). Cached: `from_json` asks it of
    every value it converts."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != len(typing.get_args(annotation)):
            return members[0], True
    return annotation, False


def json_sql(column: Column, alias: str) -> str:
    """The column's value as PostgreSQL's JSON builders should see it. Dates render as
    ISO dates by themselves; enums as their member names (what GraphQL shows: the stored
    value when it is the name, else mapped, e.g. 'moa-url' → MOA_URL; `column.sql` is the
    stored value); timestamps are written out so that they read exactly as Python's
    `isoformat()` would."""
    sql = column.sql.format(t=alias)
    base, _ = optional(column.type)
    if base is dt.datetime:
        return isoformat_sql(sql)
    if base is float:
        # A whole number as Python writes a float (100.0, where PostgreSQL writes 100).
        return (
            f"(CASE WHEN ({sql}) = trunc({sql}) AND abs({sql}) < 1e15"
            f" THEN to_json(CAST(({sql}) AS numeric(17, 1))) ELSE to_json({sql}) END)"
        )
    if isinstance(base, type) and issubclass(base, enum.Enum):
        if all(member.name == member.value for member in base):
            return f"CAST({sql} AS text)"
        cases = " ".join(f"WHEN {_quoted(m.value)} THEN {_quoted(m.name)}" for m in base)
        return f"(CASE CAST({sql} AS text) {cases} END)"
    return sql


def isoformat_sql(sql: str) -> str:
    """A timestamptz as Python's `isoformat()` writes the UTC datetime asyncpg reads."""
    return (
        f"to_char(({sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN extract(microseconds FROM ({sql}))::bigint % 1000000 = 0 THEN ''"
        f" ELSE to_char(({sql}) AT TIME ZONE 'UTC', '.US') END || '+00:00'"
    )


def _quoted(constant: str) -> str:
    """An SQL string literal of this code's own constant (an enum's value or name)."""
    assert "'" not in constant, constant
    assert "\\" not in constant, constant
    return f"'{constant}'"


def from_json(annotation: Any, value: Any) -> Any:
    """A JSON value the compiler produced, as the Python type the column declares."""
    if value is None:
        return None
    base, _ = optional(annotation)
    if base is dt.date:
        return dt.date.fromisoformat(value)
    if base is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return base[value]
    if base is float:
        return float(value)
    return value
