"""Real PostgreSQL for every test: one server per run (embedded unless TEST_DATABASE_URL is
set), one migrated template database, a fresh copy of it per test module, and a
connection per test whose outer transaction is rolled back afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from open287g.config import to_asyncpg_url
from open287g.db import migrate
from open287g.db.embedded import start_embedded, stop_embedded

# Tests load data and read it back at once: the response cache must see every load.
os.environ.setdefault("OPEN287G_VERSION_CHECK_SECONDS", "0")
# One test client hammers one app from one address: rate limits only where a test asks.
os.environ.setdefault("OPEN287G_RATE_LIMIT_PER_SECOND", "0")
# Apps made in tests use the in-process cache; only the Redis test talks to Redis.
REDIS_URL_FOR_TESTS = os.environ.pop("REDIS_URL", None)

pytest_plugins = ["tests.live", "tests.browser"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


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
    await _admin(url, "ALTER SYSTEM SET fsync = off", "SELECT pg_reload_conf()")
    yield url
    stop_embedded(data_dir)


async def _admin(url: URL, *statements: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def template_url(server_url: URL) -> AsyncIterator[URL]:
    """A database migrated to head once per run; module databases are copies of it."""
    name = f"open287g_tmpl_{uuid.uuid4().hex[:8]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = server_url.set(database=name)
    migrate.upgrade(url)
    yield url
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def create_database_copy(server_url: URL, template_url: URL) -> URL:
    name = f"open287g_t_{uuid.uuid4().hex[:10]}"
    await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_url.database}"')
    return server_url.set(database=name)


async def drop_database(server_url: URL, url: URL) -> None:
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


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
