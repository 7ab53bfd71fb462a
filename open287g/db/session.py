"""The one place engines are made: the primary (writes, loads) and an optional read replica.

Which database: DATABASE_URL when set, otherwise the embedded server in OPEN287G_DATA_DIR.

API engines (`api_engine`) are bounded so that no request can hold the database for long:
every statement has a timeout and a lock timeout (set on the connection when it opens, so
nothing a request does can forget them), a request waits at most `pool_timeout` for a
connection, and connections are checked before use so a restarted PostgreSQL is picked up
at once. Loads use `make_engine` and keep the server's defaults: a load may take minutes.

Every API connection is one REPEATABLE READ transaction (each `engine.connect()` block):
a route that reads the data version and then the data sees both from one snapshot, so no
answer mixes two versions even if a load commits (or a replica replays one) in between.
Read-only transactions at this level never fail to serialize, and hot standbys allow it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_

from open287g.config import Settings, get_settings, to_asyncpg_url
from open287g.db.embedded import start_embedded

# At most 20 connections per process, kept once opened: an overflow connection (beyond
# pool_size) is closed at checkin whenever pool_size are idle, so at 16 concurrent requests
# a pool of 10 + 10 overflow opened ~8 new sessions a second (a backend, its setup, every
# statement prepared and planned again).
API_POOL_SIZE = 20


def primary_url(settings: Settings | None = None) -> URL:
    settings = settings or get_settings()
    if settings.database_url:
        return to_asyncpg_url(settings.database_url)
    return to_asyncpg_url(start_embedded(settings.data_dir))


def replica_url(settings: Settings | None = None) -> URL:
    settings = settings or get_settings()
    if settings.database_replica_url:
        return to_asyncpg_url(settings.database_replica_url)
    return primary_url(settings)


def _server_settings(**extra: str) -> dict[str, str]:
    # JIT off because our queries are short and JIT only adds latency.
    return {"jit": "off", "application_name": "open287g", **extra}


def make_engine(url: URL, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg engine with the server's own timeouts: for loads and tools."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": _server_settings()},
    )


def _milliseconds(seconds: float) -> str:
    return str(max(1, round(seconds * 1000)))


def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Checkout's ping, in one round trip: after a PostgreSQL restart no request is handed
    a connection that died with the old server (the pool replaces it: DisconnectionError).
    SQLAlchemy's own pre-ping wraps `;` in BEGIN … ROLLBACK when the isolation level is
    not autocommit (for pgbouncer's transaction mode): three round trips per request."""
    try:
        await_(dbapi_connection.driver_connection.fetchrow(";"))
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


def api_engine(url: URL, settings: Settings | None = None) -> AsyncEngine:
    """The engine the API serves from: statement and lock timeouts on every connection,
    a short wait for a free connection, dead connections dropped before use (`_ping`)."""
    settings = settings or get_settings()
    engine = create_async_engine(
        url,
        pool_size=API_POOL_SIZE,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        isolation_level="REPEATABLE READ",  # one snapshot per connection block
        pool_pre_ping=False,  # `_ping` instead
        connect_args={
            "server_settings": _server_settings(
                statement_timeout=_milliseconds(settings.statement_timeout),
                lock_timeout=_milliseconds(settings.lock_timeout),
                idle_in_transaction_session_timeout=_milliseconds(
                    max(settings.export_timeout, settings.statement_timeout) * 2
                ),
            ),
            # A server that accepts TCP but never answers must not hang a request either.
            "timeout": settings.pool_timeout,
        },
    )
    event.listen(engine.sync_engine, "checkout", _ping)
    return engine


@asynccontextmanager
async def export_snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in one REPEATABLE READ transaction (every batch of an export sees the
    same data even if a load commits meanwhile), whose statements may run for
    OPEN287G_EXPORT_TIMEOUT instead of the API's short statement timeout: exports read
    whole tables, and there are at most OPEN287G_MAX_EXPORTS of them at once."""
    timeout = _milliseconds(get_settings().export_timeout)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            await conn.execute(text(f"SET LOCAL statement_timeout = {int(timeout)}"))
            yield conn
