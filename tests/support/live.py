"""The real server on the real data, for tests that use clients nobody here wrote
(schemathesis, frictionless, a browser, attackers, fault injection).

The data (all 54 ICE snapshots, every policy CSV of ../shared/data/policies — the brief's,
the DOJ's designations, Texas S.B. 8 — and one synthetic detainer release)
is loaded ONCE per run into a template database (over a copy of `ice_template`, which holds
the snapshots alone, for modules that load other data: tests/support/snapshots.py); each module
that asks for `live_server` gets its own copy of it and its own `open287g serve` process on
a free loopback port, so a module that kills, floods or reloads its server cannot disturb
another.

conftest registers this module as a plugin: ask for `live_server` (or `loaded_template_url`)
by name in any test.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from load_tests.server import free_port, start_server, wait_ready
from open287g.config import Settings
from open287g.loaders.detainers.load import load_detainer_path
from open287g.loaders.ice287g.load import FileResult, load_sources, plan_sources
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from tests.support.database import create_database_copy, drop_database
from tests.support.environment import SHARED_DATA
from tests.support.fixtures import ICE_DIR, make_detainers

POLICY_CSVS = sorted((SHARED_DATA / "policies").glob("*.csv"))
DETAINER_ROWS = 20_000


def libpq_url(url: URL) -> str:
    """The `postgresql://` form a child process reads from DATABASE_URL."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class IceTemplate:
    url: URL
    results: list[FileResult]
    """What loading each snapshot did, in the order they were loaded."""


@pytest.fixture(scope="session")
async def ice_template(server_url: URL, template_url: URL) -> AsyncIterator[IceTemplate]:
    """A migrated database holding the 54 real ICE snapshots, loaded once per run (a load
    takes half a minute or more); never used directly, only copied."""
    if not ICE_DIR.is_dir():
        pytest.skip(f"{ICE_DIR} not present")
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        results = await load_sources(engine, plan_sources([str(ICE_DIR)]), Settings())
    finally:
        await engine.dispose()
    yield IceTemplate(url, results)
    await drop_database(server_url, url)


@pytest.fixture(scope="session")
async def loaded_template_url(
    server_url: URL, ice_template: IceTemplate, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[URL]:
    """A migrated database holding the real snapshots, the policy CSV and synthetic
    detainers; never used directly, only copied (CREATE DATABASE … TEMPLATE)."""
    url = await create_database_copy(server_url, ice_template.url)
    engine = create_async_engine(url, poolclass=NullPool)
    settings = Settings()
    try:
        for policies in POLICY_CSVS:  # as `make run` loads them
            await load_policy_document(engine, read_path(str(policies), 10**6), settings)
        release = make_detainers(
            tmp_path_factory.mktemp("live") / "release.csv", rows=DETAINER_ROWS, fmt="csv"
        )
        await load_detainer_path(engine, release, settings, is_synthetic=True)
    finally:
        await engine.dispose()
    yield url
    await drop_database(server_url, url)


@dataclass
class LiveServer:
    """One `open287g serve` process over its own copy of the loaded data."""

    base_url: str
    database_url: URL
    port: int
    process: subprocess.Popen[bytes]
    env: dict[str, str]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode


def server_env(database_url: URL, **extra: str) -> dict[str, str]:
    """The environment of a served process: this test run's database, nothing inherited
    that could point it elsewhere (REDIS_URL only when a test asks for it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPEN287G_", "REDIS_"))}
    env.pop("DATABASE_REPLICA_URL", None)
    env.update(DATABASE_URL=libpq_url(database_url), OPEN287G_VERSION_CHECK_SECONDS="0")
    env.update(extra)
    return env


async def start_live_server(
    database_url: URL, *, log: IO[bytes] | None = None, **extra_env: str
) -> LiveServer:
    """The server on a free port, its log to `log` (default: the test run's stderr)."""
    port = free_port()
    env = server_env(database_url, **extra_env)
    process = start_server(env, port, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base, seconds=30)
    except RuntimeError:
        process.kill()
        raise
    return LiveServer(base, database_url, port, process, env)


@pytest.fixture(scope="module")
async def live_server(server_url: URL, loaded_template_url: URL) -> AsyncIterator[LiveServer]:
    """The real server (one worker) on a fresh copy of the loaded data."""
    url = await create_database_copy(server_url, loaded_template_url)
    server = await start_live_server(url)
    yield server
    server.stop()
    await drop_database(server_url, url)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave what a person may want to look at (screenshots, reports):
    `$OPEN287G_TEST_ARTIFACTS` or `.test-artifacts/` (ignored by git)."""
    root = Path(os.environ.get("OPEN287G_TEST_ARTIFACTS", Path.cwd() / ".test-artifacts"))
    root.mkdir(parents=True, exist_ok=True)
    return root


SESSION_STATES = {
    "waiting on a lock": "wait_event_type = 'Lock'",
    "in a transaction": "xact_start IS NOT NULL",
    "busy": "state <> 'idle'",  # running, or idle inside a transaction
}


async def open287g_sessions(admin: AsyncEngine, database: str, what: str) -> int:
    """How many sessions of open287g processes (servers, loaders: application_name) on
    `database` are in the state `what` names (a key of SESSION_STATES), seen from `admin`."""
    async with admin.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db"
                " AND pid <> pg_backend_pid() AND application_name = 'open287g'"
                f" AND {SESSION_STATES[what]}"
            ),
            {"db": database},
        )
        return int(found.scalar_one())
