"""The one pagination helper: opaque keyset cursors over a stable sort (value, id).

A cursor encodes the ordering it was made for and the last row's sort key; a cursor from
another ordering, a forged or truncated one, is a `BadCursor` (a clear client error), not
a wrong page. Offsets are never used, so pages stay stable while data changes.

Cursors and text filters come from clients, so they are bounded before any SQL sees them:
a cursor is at most `MAX_CURSOR_CHARS`, its integers fit PostgreSQL's bigint, its text
holds no NUL (which PostgreSQL cannot store) and is at most `MAX_TEXT_CHARS`, as is a text
filter.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.errors import ClientError

T = TypeVar("T")

MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_CURSOR_CHARS = 512
MAX_TEXT_CHARS = 200
_INT64 = range(-(2**63), 2**63)


class BadCursor(ClientError):
    pass


class BadPageSize(ClientError):
    pass


class BadFilter(ClientError):
    pass


@dataclass(frozen=True)
class Keyset:
    """Where a page starts: after the row whose (value, id) is given, in `ordering`."""

    ordering: str
    value: str | int | None
    id: int


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next: bool
    cursors: Sequence[str]

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


@dataclass(frozen=True)
class PageQuery:
    """The SQL of one keyset page, for callers that build more around it (the compiler
    wraps it in a connection): `ctes` is empty or CTEs to put after WITH, `rows` selects
    the rows after the cursor with their `sort_value`, ending with its ORDER BY and no
    LIMIT, `count` counts every row matching the filters. The query layer does not know
    the page's size: the statement that shows the page limits `rows` (`limited`)."""

    ctes: str
    rows: str
    count: str
    params: dict[str, object]


@dataclass(frozen=True)
class Rows:
    """Rows for the compiler that are not a keyset page: a FROM item whose row alias is
    `{c}`, the order they are listed in (over `{c}`), and its `:name` parameters (a
    computed entity's rows, every row of a table, the agreements a page shows)."""

    source: str
    order: str
    params: dict[str, Any]


def limited(rows: str, size: int) -> str:
    """A page's `rows` (`PageQuery.rows`) as a page of `size` reads them: one more than
    it shows, to tell if a next page follows. The one place a page's size limits SQL (a
    backward window reads every row). The LIMIT is a number in the text, not a
    parameter: PostgreSQL re-planned a page whose only parameter was its limit on every
    execution (custom plans; 2-3 ms of a REST page of 100 agreements)."""
    return f"{rows} LIMIT {int(size) + 1}"


def id_page_query(
    *,
    source: str,
    alias: str,
    where: str,
    params: dict[str, object],
    after: str | None,
    ordering: str,
) -> PageQuery:
    """A keyset page in id order of every column of `source` (`table alias`)."""
    params = dict(params)
    count = f"SELECT count(*) FROM {source} WHERE {where}"
    if after:
        params["after_id"] = decode_cursor(after, ordering).id
        where = f"({where}) AND {alias}.id > :after_id"
    rows = (
        f"SELECT {alias}.*, {alias}.id AS sort_value FROM {source} WHERE {where}"
        f" ORDER BY {alias}.id"
    )
    return PageQuery("", rows, count, params)


def encode_cursor(ordering: str, value: object, row_id: int) -> str:
    if isinstance(value, dt.date):
        value = value.isoformat()
    raw = json.dumps([ordering, value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str) -> Keyset:
    if len(cursor) > MAX_CURSOR_CHARS:
        raise BadCursor("cursor is not one this API issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, row_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, RecursionError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc
    if not (_is_int64(row_id) and row_id >= 0 and _plain(value)) or not isinstance(made_for, str):
        raise BadCursor("cursor is not one this API issued")
    if made_for != ordering:
        raise BadCursor(f"cursor was issued for ordering {made_for!r}, not {ordering!r}")
    return Keyset(ordering, value, row_id)


def _is_int64(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in _INT64


def _plain(value: object) -> bool:
    """A sort value this API could have issued: null, a bigint, or bounded text."""
    if isinstance(value, str):
        return len(value) <= MAX_TEXT_CHARS and "\x00" not in value
    return value is None or _is_int64(value)


def page_size(
    first: int | None, *, default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE, minimum: int = 1
) -> int:
    size = default if first is None else first
    if not minimum <= size <= maximum:
        raise BadPageSize(f"page size must be between {minimum} and {maximum}, got {size}")
    return size


@dataclass(frozen=True)
class Window:
    """Which slice of a connection a client asked for (the Relay arguments): forwards, the
    `size` rows after `after` (or the first ones), or backwards, the `size` rows before
    `before` (or the last ones). A query layer builds forwards pages only: a backward
    window asks it for every row (no `query_after`), and the compiler numbers them and
    slices the window off the end (`db/compiler.py`). `first: 0` (or `last: 0`)
    is an empty page whose page info still answers."""

    size: int
    after: str | None = None
    before: str | None = None
    backward: bool = False

    @property
    def query_after(self) -> str | None:
        return None if self.backward else self.after


def window(
    first: int | None, after: str | None, last: int | None = None, before: str | None = None
) -> Window:
    """The window of `first`/`after` or `last`/`before` (0 to MAX_PAGE rows). `first`
    is ignored when paging backwards (its schema default is always there); `after` with
    `last` or `before` is refused: a window runs one way."""
    if last is None and before is None:
        return Window(page_size(first, minimum=0), after=after)
    if after is not None:
        raise BadPageSize(
            "page forwards (`first`, `after`) or backwards (`last`, `before`), not both"
        )
    return Window(page_size(last, minimum=0), before=before, backward=True)


def contains_pattern(value: str) -> str:
    """An ILIKE pattern matching `value` anywhere, literally (use with ESCAPE '\\')."""
    if "\x00" in value:
        raise BadFilter("text filters cannot contain a NUL character")
    if len(value) > MAX_TEXT_CHARS:
        raise BadFilter(
            f"text filters are at most {MAX_TEXT_CHARS} characters (got {len(value):,})"
        )
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def id_page(
    conn: AsyncConnection,
    *,
    columns: str,
    source: str,
    alias: str,
    where: str,
    params: dict[str, object],
    first: int,
    after: str | None,
    ordering: str,
    build: Callable[[Sequence[Any]], T],
) -> Page[T]:
    """`id_page_query`'s page run here, as records: `build` gets each row's `columns` (SQL
    over `alias`, the id among them as `id`), for callers that want records, not JSON."""
    query = id_page_query(
        source=source,
        alias=alias,
        where=where,
        params=params,
        after=after,
        ordering=ordering,
    )
    sql = (
        f"SELECT {columns} FROM ({limited(query.rows, first)}) {alias} ORDER BY {alias}.sort_value"
    )
    rows = (await conn.execute(text(sql), query.params)).all()
    shown = rows[:first]
    return Page(
        [build(row) for row in shown],
        len(rows) > first,
        [encode_cursor(ordering, row.id, row.id) for row in shown],
    )
