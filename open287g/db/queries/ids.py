"""Opaque global ids shared by GraphQL (`id`, `node(id:)`) and REST (`/v1/<collection>/{id}`).

An id is base64url("Type:primary key"), so it names its type and cannot be confused with
another type's row; clients must treat it as opaque.

Decoding is strict because ids come from clients: integer keys are ASCII digits within
PostgreSQL's bigint (Python's `int()` also takes `²`, `١٠`, `1_000` and ` 7 `, and a key
past 2^63 − 1 would reach the database as an overflow), text keys are the upper-case codes
this API issues, and an id is at most `MAX_ID_CHARS` long.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.errors import ClientError

TYPES = frozenset(
    {
        "Agreement",
        "Agency",
        "Jurisdiction",
        "ProgramModel",
        "Policy",
        "Official",
        "Dataset",
        "Document",
        "Facility",
    }
)
TEXT_KEYED = frozenset({"ProgramModel"})
MAX_ID_CHARS = 128
INT64_MAX = 2**63 - 1
_INT_KEY = re.compile(r"[0-9]{1,19}")
_TEXT_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class BadId(ClientError):
    pass


def to_global_id(type_name: str, key: int | str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def gid_sql(type_name: str, key_sql: str) -> str:
    """SQL for `to_global_id()`: base64url of "Type:key", without padding (entities' `id`
    columns, statistics' agency and jurisdiction keys)."""
    return (
        f"rtrim(translate(encode(convert_to('{type_name}:' || ({key_sql})::text, 'UTF8'),"
        " 'base64'), E'+/\\n', '-_'), '=')"
    )


def _refuse(global_id: str) -> BadId:
    shown = global_id if len(global_id) <= 40 else global_id[:40] + "…"
    return BadId(f"{shown!r} is not an id of this API")


def from_global_id(global_id: str) -> tuple[str, str]:
    """(type name, key) of an id this API issued; the key is well-formed for its type
    (see `int_key_of` for integer keys). Anything else is a `BadId`."""
    if len(global_id) > MAX_ID_CHARS:
        raise _refuse(global_id)
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise _refuse(global_id) from exc
    type_name, _, key = raw.partition(":")
    if type_name not in TYPES:
        raise _refuse(global_id)
    pattern = _TEXT_KEY if type_name in TEXT_KEYED else _INT_KEY
    if pattern.fullmatch(key) is None or (type_name not in TEXT_KEYED and int(key) > INT64_MAX):
        raise _refuse(global_id)
    # One resource, one id: the decoder skips characters outside the alphabet (a NUL),
    # takes padding and leading zeros; only the id `to_global_id` writes is accepted.
    if to_global_id(type_name, key if type_name in TEXT_KEYED else int(key)) != global_id:
        raise _refuse(global_id)
    return type_name, key


def with_article(type_name: str) -> str:
    """`an Agency`, `a Facility`: the type name with its indefinite article."""
    return f"{'an' if type_name[:1] in 'AEIOU' else 'a'} {type_name}"


MAX_IDS = 100  # `nodes(ids:)`: as many as a page holds


def check_ids(ids: Sequence[str]) -> None:
    if len(ids) > MAX_IDS:
        raise BadId(f"at most {MAX_IDS} ids at once, got {len(ids):,}")


def int_key_of(key: str) -> int | None:
    """An integer primary key from the key part of an id, or None when it is not one
    (ASCII digits only, within bigint)."""
    if _INT_KEY.fullmatch(key) is None:
        return None
    value = int(key)
    return value if value <= INT64_MAX else None


def int_key(global_id: str, expected_type: str) -> int:
    type_name, key = from_global_id(global_id)
    value = int_key_of(key)
    if type_name != expected_type or value is None:
        raise BadId(
            f"{global_id!r} is the id of {with_article(type_name)}, not of"
            f" {with_article(expected_type)}"
        )
    return value


def optional_int_key(global_id: str | None, expected_type: str) -> int | None:
    """`int_key` of a filter's optional id argument (None: not given)."""
    return None if global_id is None else int_key(global_id, expected_type)


# The tables of the types a filter takes by id (REST's and GraphQL's `facility`,
# `agency`, `jurisdiction`).
_FILTER_TABLES = {
    "Facility": "detainer_facilities",
    "Agency": "agencies",
    "Jurisdiction": "jurisdictions",
}


async def check_filter_ids(
    conn: AsyncConnection, ids: Mapping[str, tuple[str, int | None]]
) -> None:
    """A BadId (400) when a filter's well-formed id of the right type names no row:
    `ids` maps each parameter to (type, key), key None when not given. One statement,
    only when an id is given; a filter naming nothing would read as "none" (a typo
    shown as no detainers)."""
    given = {name: (type_name, key) for name, (type_name, key) in ids.items() if key is not None}
    if not given:
        return
    checks = ", ".join(
        f"EXISTS (SELECT FROM {_FILTER_TABLES[type_name]} WHERE id = :k{i})"
        for i, (type_name, _) in enumerate(given.values())
    )
    params = {f"k{i}": key for i, (_, key) in enumerate(given.values())}
    found = (await conn.execute(text(f"SELECT {checks}"), params)).one()
    for exists, (name, (type_name, key)) in zip(found, given.items(), strict=True):
        if not exists:
            shown = to_global_id(type_name, key if key is not None else 0)
            raise BadId(f"{name}: no {type_name} has the id {shown!r}")
