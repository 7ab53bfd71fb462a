"""The derived data refresh `open287g db migrate` runs after Alembic: what migrations ask
for waits until the head revision, is performed once by the current code, and a name the
code does not know stops the migration rather than being dropped."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.db import migrate
from open287g.loaders.derived import REFRESHES, UnknownRefresh, migrate_database
from tests.support.database import create_database_copy, drop_database

PENDING = "SELECT name FROM derived_refreshes ORDER BY name"


async def test_a_refresh_waits_for_head_and_runs_once(server_url: URL, template_url: URL) -> None:
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        migrate.downgrade(url, "0024")
        assert await migrate_database(url, "0025") == []  # not at head: it waits
        async with engine.connect() as conn:
            assert list((await conn.execute(text(PENDING))).scalars()) == ["placements"]
        # Up to head, 0030 asks for the stored rows too; each runs once, in REFRESHES' order.
        assert await migrate_database(url) == ["placements", "rendered_rows"]
        assert await migrate_database(url) == []
        async with engine.connect() as conn:
            assert list((await conn.execute(text(PENDING))).scalars()) == []
    finally:
        await engine.dispose()
        await drop_database(server_url, url)


async def test_an_unknown_refresh_is_refused_and_kept(server_url: URL, template_url: URL) -> None:
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO derived_refreshes (name, requested_by) VALUES ('x', '9999')")
            )
        with pytest.raises(UnknownRefresh, match="no such derived data refresh: x"):
            await migrate_database(url)
        async with engine.connect() as conn:
            assert list((await conn.execute(text(PENDING))).scalars()) == ["x"]
    finally:
        await engine.dispose()
        await drop_database(server_url, url)


def test_refreshes_run_counties_first_and_the_stored_rows_last() -> None:
    """Lineage matches on counties; the stored /v1 rows show lineage and placements."""
    assert list(REFRESHES) == ["counties", "lineage", "placements", "rendered_rows"]
