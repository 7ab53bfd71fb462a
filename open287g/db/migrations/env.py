"""Alembic environment: runs migrations over asyncpg with the URL open287g resolved."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.db.models import Base
from open287g.db.session import primary_url

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.config.attributes.get("database_url") or primary_url()
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


def _run_in_thread_if_loop_running() -> None:
    """Alembic is synchronous; when called from inside a running event loop (tests, the
    server's startup) run the async migration in a fresh loop on another thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_run_online())
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _run_online()).result()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `open287g db migrate`")
_run_in_thread_if_loop_running()
