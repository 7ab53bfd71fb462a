"""Per-request DataLoaders of the fallback resolvers: every nested field is fetched in one
SQL statement per level, whatever the page size (no N+1). Each batch borrows a pooled
connection. Declared relations share two generic loaders (`relation`, `lookup`) that run
the compiler's batch statements.

A DataLoader hands every field asking for a key the same Future. graphql-core cancels the
sibling fields of one whose error nulls their parent, and cancelling a task cancels the
Future it awaits: another field, elsewhere in the query, then woke up with CancelledError
and the whole request failed (the differential test found it). `SharedLoader` gives each
waiter its own shield, so a cancelled field never cancels the shared Future.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from open287g.db.compiler import (
    Pick,
    Statement,
    all_columns,
    batch_sql,
    fetch_json,
    rows_by_keys_sql,
)
from open287g.db.entities.declare import Entity, Relation
from open287g.graphql.relay import RELAY

K = TypeVar("K")
V = TypeVar("V")


class SharedLoader(DataLoader[K, V]):
    def load(self, key: K) -> Awaitable[V]:
        return asyncio.shield(super().load(key))


class Loaders:
    def __init__(self, engine: AsyncEngine, settings: object = None) -> None:
        self.engine = engine
        self.settings = settings  # binds a statement's `Setting` parameters
        self._relations: dict[tuple[str, str, str], DataLoader[Any, Any]] = {}
        self._lookups: dict[str, DataLoader[Any, Any]] = {}

    def relation(self, entity: Entity, relation: Relation, pick: Pick) -> DataLoader[Any, Any]:
        """The JSON value of `relation` (selected by `pick`) for parent keys, one compiled
        statement per batch; one loader per relation and arguments in a request."""
        name = (entity.name, relation.name, repr(sorted(pick.args.items())))
        loader = self._relations.get(name)
        if loader is None:
            loader = self._relations[name] = self._pairs(
                lambda stmt, keys: batch_sql(stmt, entity, relation, keys, pick)
            )
        return loader

    def lookup(self, entity: Entity) -> DataLoader[Any, Any]:
        """Rows of `entity` (every column) by key, None where there is none."""
        loader = self._lookups.get(entity.name)
        if loader is None:
            loader = self._lookups[entity.name] = self._pairs(
                lambda stmt, keys: rows_by_keys_sql(stmt, entity, keys, all_columns(entity))
            )
        return loader

    def _pairs(self, build: Callable[[Statement, list[Any]], str]) -> DataLoader[Any, Any]:
        """A loader running `build`'s statement (a JSON list of `[key, value]` pairs) for
        each batch of keys; None for a key it does not list."""

        async def load(keys: list[Any]) -> list[Any]:
            stmt = Statement(shape=RELAY)
            found = dict(await fetch_json(self.engine, stmt, build(stmt, keys), self.settings))
            return [found.get(key) for key in keys]

        return SharedLoader(load_fn=load)
