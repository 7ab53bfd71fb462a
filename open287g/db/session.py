"""The one place engines are made: the primary (writes, loads) and an optional read replica.

Which database: DATABASE_URL when set, otherwise the embedded server in OPEN287G_DATA_DIR.
"""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from open287g.config import Settings, get_settings, to_asyncpg_url
from open287g.db.embedded import start_embedded


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


def make_engine(url: URL, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg engine; JIT off because our queries are short and JIT only adds latency."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": {"jit": "off", "application_name": "open287g"}},
    )
