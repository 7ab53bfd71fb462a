"""Test databases: copies of the run's migrated template, and a counter of the SQL
statements an engine sends (tests assert statement counts)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool


async def admin_statements(url: URL, *statements: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_database_copy(server_url: URL, template_url: URL) -> URL:
    name = f"open287g_t_{uuid.uuid4().hex[:10]}"
    await admin_statements(
        server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_url.database}"'
    )
    return server_url.set(database=name)


async def drop_database(server_url: URL, url: URL) -> None:
    await admin_statements(server_url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def database_copy(
    server_url: URL, template_url: URL, **engine_options: Any
) -> AsyncIterator[AsyncEngine]:
    """An engine (`engine_options` as create_async_engine's) on a copy of the template of
    its own, dropped afterwards."""
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, **engine_options)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_database(server_url, url)


# Each agreement's first sighting of its lineage, walked: its own or any predecessor's
# first_seen (a model switch starts a new agreement: its link is not followed). The rule the
# read model stores as agreements.lineage_first_seen, as an oracle: (id, first_seen) rows.
LINEAGE_FIRST_SEEN = """
WITH RECURSIVE chain(id, ancestor) AS (
    SELECT id, id FROM agreements
    UNION
    SELECT c.id, l.predecessor_id FROM chain c JOIN agreement_links l
        ON l.successor_id = c.ancestor AND l.kind <> 'SWITCH'
)
SELECT c.id, min(g.first_seen) FROM chain c JOIN agreements g ON g.id = c.ancestor GROUP BY c.id
"""


class StatementCounter:
    """Counts SQL statements sent through an engine: SQLAlchemy's (cursor events) and
    those sent to asyncpg directly (the compiled path), seen by asyncpg's query logger.
    Transaction control (BEGIN, ROLLBACK, COMMIT) is not a statement of the request."""

    TRANSACTION = frozenset({"BEGIN;", "ROLLBACK;", "COMMIT;"})

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.watched: dict[int, Any] = {}

    def __call__(self, *args: object) -> None:
        self.statements.append(str(args[2]))

    def driver_statement(self, query: Any) -> None:
        if query.query not in self.TRANSACTION:
            self.statements.append(query.query)

    def checkout(self, dbapi_connection: Any, *_: object) -> None:
        raw = dbapi_connection.driver_connection
        if id(raw) not in self.watched:
            raw.add_query_logger(self.driver_statement)
            self.watched[id(raw)] = raw

    @property
    def count(self) -> int:
        return len(self.statements)
