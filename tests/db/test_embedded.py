"""The embedded server: starts (as root too), is reused, and stops cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.config import to_asyncpg_url
from open287g.db.embedded import start_embedded, stop_embedded


@pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="TEST_DATABASE_URL set: no embedded server"
)
async def test_start_reuse_and_stop(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    url = start_embedded(data_dir)
    try:
        assert start_embedded(data_dir) == url, "a running server is reused"
        pid = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        owner = psutil.Process(pid).username()
        if os.geteuid() == 0:
            assert owner != "root", "PostgreSQL refuses to run as root; the wheel drops privileges"
        engine = create_async_engine(to_asyncpg_url(url), poolclass=NullPool)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        await engine.dispose()
    finally:
        assert stop_embedded(data_dir) is True
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    assert stop_embedded(data_dir) is False
