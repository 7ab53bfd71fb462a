"""A `one` relation through a foreign key of which only the key is asked (`agency { id }`,
`parent { id }`) is built from the row's foreign key, with no subquery (#25): the same
values the subquery gives, null where the key is."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.db.compiler import Pick, Statement, fetch_json, rows_sql, table_rows
from open287g.db.entities import ENTITIES
from open287g.graphql.relay import RELAY
from tests.support.snapshots import database_url

__all__ = ["database_url"]


async def _rows(
    engine: AsyncEngine, entity: str, relation: str, picks: tuple[Pick, ...]
) -> list[Any]:
    stmt = Statement(shape=RELAY)
    target = ENTITIES[entity]
    below = (Pick("key", "__key"), Pick("r", relation, {}, picks))
    sql = rows_sql(stmt, target, table_rows(target, "{t}.id"), below)
    # Only a key: no subquery (a `one` relation's subquery takes its first row).
    assert ("LIMIT 1" in sql) == any(p.name == "name" for p in picks), sql
    found: list[Any] = await fetch_json(engine, stmt, sql)
    return found


async def test_a_key_through_a_foreign_key_is_the_foreign_key(engine: AsyncEngine) -> None:
    keys = (Pick("id", "id"), Pick("k", "__key"), Pick("t", "__typename"))
    for entity, relation in (("Agreement", "agency"), ("Jurisdiction", "parent")):
        keyed = await _rows(engine, entity, relation, keys)
        joined = await _rows(engine, entity, relation, (*keys, Pick("name", "name")))
        assert keyed, entity
        assert keyed == [
            {**row, "r": row["r"] and {k: v for k, v in row["r"].items() if k != "name"}}
            for row in joined
        ]
    parents = await _rows(engine, "Jurisdiction", "parent", keys)
    assert any(row["r"] is None for row in parents), "a state has no parent: null"
    assert any(row["r"] is not None for row in parents)
