"""Benchmark: load all shared ICE snapshots into an empty database; print seconds and rows/s.

    make bench            (or: python -m load_tests.bench_ice_load [FOLDER])

Uses a throwaway database on the DATABASE_URL server, or on the embedded server.
Target (issue #3): all 54 snapshots in under 20 s on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.config import get_settings
from open287g.db import migrate
from open287g.db.session import make_engine, primary_url
from open287g.loaders.ice287g.load import load_sources, plan_sources

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "ice-287g"


async def _admin(statement: str) -> None:
    engine = create_async_engine(primary_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


@asynccontextmanager
async def scratch_database() -> AsyncIterator[URL]:
    """A migrated, throwaway database on the configured (or embedded) server."""
    name = f"open287g_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    url = primary_url().set(database=name)
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        yield url
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def load_ice_lists(url: URL) -> None:
    """The 54 shared ICE snapshots into the database at `url`, untimed."""
    engine = make_engine(url, pool_size=2)
    await load_sources(engine, plan_sources([str(DEFAULT_FOLDER)]), get_settings())
    await engine.dispose()


async def main(folder: Path) -> None:
    async with scratch_database() as url:
        engine = make_engine(url, pool_size=2)
        planned = plan_sources([str(folder)])
        started = time.perf_counter()
        results = await load_sources(engine, planned, get_settings())
        seconds = time.perf_counter() - started
        await engine.dispose()
    rows = sum(result.counts.rows_read for result in results)
    print(f"ice-287g load: {len(results)} files, {rows} rows in {seconds:.2f} s")
    print(f"  {rows / seconds:,.0f} rows/s, {seconds / len(results) * 1000:.0f} ms/file")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER))
