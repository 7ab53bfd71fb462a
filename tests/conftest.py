"""Real PostgreSQL for every test: one server per run (embedded unless TEST_DATABASE_URL is
set), one migrated template database, a fresh copy of it per test module, and a
connection per test whose outer transaction is rolled back afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from open287g.config import to_asyncpg_url
from open287g.db.embedded import start_embedded, stop_embedded
from open287g.loaders.derived import migrate_database
from tests.support.database import (
    StatementCounter,
    admin_statements,
    create_database_copy,
    drop_database,
)
from tests.support.environment import IN_CI, PROJECT_ROOT
from tests.support.moas import load_moa_agreements

pytest_plugins = ["tests.support.live", "tests.support.browser"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Under CI=true a skipped test is a failed test: a missing prerequisite (shared data,
    Redis, Chromium) must stop the build, not quietly shrink the suite."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skips; prerequisite missing: {reason}"


def pytest_report_header() -> str:
    where = "TEST_DATABASE_URL" if os.environ.get("TEST_DATABASE_URL") else "embedded PostgreSQL"
    return f"open287g tests against {where}"


@pytest.fixture(scope="session")
async def server_url() -> AsyncIterator[URL]:
    """The server every test database lives on. The embedded one (the test server only,
    never `make run`'s) runs without fsync: its data need not survive a crash of the
    machine, and each module's CREATE DATABASE copy, the checkpoint each DROP DATABASE
    forces, and every commit would otherwise wait for the disk. A crash of PostgreSQL
    alone loses nothing: every commit is still written before it returns."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield to_asyncpg_url(configured)
        return
    data_dir = Path(os.environ.get("OPEN287G_TEST_DATA_DIR", PROJECT_ROOT / ".data" / "test"))
    url = to_asyncpg_url(start_embedded(data_dir))
    await admin_statements(url, "ALTER SYSTEM SET fsync = off", "SELECT pg_reload_conf()")
    yield url
    stop_embedded(data_dir)


@pytest.fixture(scope="session")
async def template_url(server_url: URL) -> AsyncIterator[URL]:
    """A database migrated to head once per run; module databases are copies of it."""
    name = f"open287g_tmpl_{uuid.uuid4().hex[:8]}"
    await admin_statements(server_url, f'CREATE DATABASE "{name}"')
    url = server_url.set(database=name)
    await migrate_database(url)
    yield url
    await admin_statements(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
async def database_url(server_url: URL, template_url: URL) -> AsyncIterator[URL]:
    """A fresh, migrated database for this test module."""
    url = await create_database_copy(server_url, template_url)
    yield url
    await drop_database(server_url, url)


@pytest.fixture(scope="module")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
def count_statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    event.listen(engine.sync_engine, "after_cursor_execute", counter)
    event.listen(engine.sync_engine, "checkout", counter.checkout)
    yield counter
    event.remove(engine.sync_engine, "after_cursor_execute", counter)
    event.remove(engine.sync_engine, "checkout", counter.checkout)
    for raw in counter.watched.values():
        raw.remove_query_logger(counter.driver_statement)


@pytest.fixture
async def moa_agreements(conn: AsyncConnection, tmp_path: Path) -> None:
    """Two agencies whose MOA links name the shared PDFs (as ICE's list does)."""
    await load_moa_agreements(conn, tmp_path)
