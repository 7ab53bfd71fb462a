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

import time
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


# A connection idle this long is pinged before it is handed out; one in use more recently
# is trusted (see `_check_out`).
IDLE_PING_SECONDS = 2.0


def _checked_in(dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _check_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """No request is handed a connection that died with a PostgreSQL restart or a dropped
    network (the pool replaces it: DisconnectionError), at the least cost per request:
    - a server that ends a session (restart, failover, termination) sends FATAL and closes,
      which asyncpg marks at once (`is_closed()`, no round trip): checked every time;
    - a connection idle for IDLE_PING_SECONDS or more (where a silent drop hides) is
      pinged with `;` alone, one round trip. SQLAlchemy's own pre-ping wraps `;` in
      BEGIN … ROLLBACK when the isolation level is not autocommit (three round trips), and
      a ping on every checkout was a fifth of a REST page's CPU time under load.
    A connection that fails despite this answers 503 (`db/errors.py`), never a wrong page."""
    driver = dbapi_connection.driver_connection
    if driver.is_closed():
        raise DisconnectionError("the server closed the connection")
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        await_(driver.fetchrow(";"))
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


def api_engine(url: URL, settings: Settings | None = None) -> AsyncEngine:
    """The engine the API serves from: statement and lock timeouts on every connection,
    a short wait for a free connection, dead connections dropped before use (`_check_out`)."""
    settings = settings or get_settings()
    engine = create_async_engine(
        url,
        pool_size=API_POOL_SIZE,
        max_overflow=0,
        pool_timeout=settings.pool_timeout,
        isolation_level="REPEATABLE READ",  # one snapshot per connection block
        pool_pre_ping=False,  # `_check_out` instead
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
    event.listen(engine.sync_engine, "checkin", _checked_in)
    event.listen(engine.sync_engine, "checkout", _check_out)
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
