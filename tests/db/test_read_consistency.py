"""One data version per answer, in process (#15): what the replication test shows with real
servers, pinned down here case by case against the real app and PostgreSQL.

- An API connection reads the version and the data from one snapshot (REPEATABLE READ).
- The response cache files an answer under the version its own reads saw, never under the
  clock's (a clock ahead of the data, as after a NOTIFY a lagging replica has not replayed,
  must not file older data under a newer version).
- A GraphQL answer carries the version it was read at, even when the clock is behind.
- A committed load NOTIFYs listeners; a rolled-back one does not.
- Access log lines and per-route duration histograms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.notify import VersionListener
from open287g.db.queries import changes
from open287g.db.session import api_engine
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import SourceDocument
from open287g.web.cache import MemoryCache
from open287g.web.observability import ACCESS_LOGGER, AccessLog, JsonFormatter

HEADER = (
    "jurisdiction_level,state,name,fips,status,declared_sanctuary,policy_name,"
    "effective_date,source_title,source_url,notes\n"
)


async def _add_policy(engine: AsyncEngine, state: str, status: str = "LIMITS") -> None:
    row = f"state,{state},x,,{status},false,,,Test {status},,\n"
    await load_policy_document(
        engine, SourceDocument(f"{state}-{status}.csv", (HEADER + row).encode()), Settings()
    )


@pytest.fixture
async def app(engine: AsyncEngine) -> AsyncIterator[Starlette]:
    application = create_app(Settings(version_check_seconds=600), engine=engine)
    yield application
    await application.state.response_cache.aclose()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_an_api_connection_reads_version_and_data_from_one_snapshot(
    database_url: URL, engine: AsyncEngine
) -> None:
    """A load committing between a route's version read and its data read is not seen by
    the data read (READ COMMITTED would show it: an answer mixing two versions)."""
    served = api_engine(database_url, Settings())
    try:
        async with served.connect() as conn:
            version = (await changes.data_version(conn)).version
            policies = (await conn.execute(text("SELECT count(*) FROM policies"))).scalar_one()
            await _add_policy(engine, "NV")  # commits on another connection
            assert (await changes.data_version(conn)).version == version
            again = (await conn.execute(text("SELECT count(*) FROM policies"))).scalar_one()
            assert again == policies
        async with served.connect() as conn:  # the next connection block sees the load
            assert (await changes.data_version(conn)).version > version
    finally:
        await served.dispose()


def _ahead(app: Starlette, by: int) -> int:
    """Push the app's version clock `by` versions past the data (as a NOTIFY does before
    a lagging replica has replayed the load); returns the true version."""
    clock = app.state.version_clock
    assert clock.value is not None
    true = int(clock.value.version)
    clock.value = dataclasses.replace(clock.value, version=true + by)
    clock.read_at = time.monotonic()
    return true


def _stored_versions(app: Starlette) -> set[str]:
    cache = app.state.response_cache
    assert isinstance(cache, MemoryCache)
    # A key is namespace@VERSION[~coding]:request (one entry per content coding).
    return {key.split("@", 1)[1].split(":", 1)[0].split("~", 1)[0] for key in cache.entries}


async def test_an_answer_is_cached_under_the_version_it_was_read_at(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await client.get("/v1/program-models")  # the clock reads the version
    true = _ahead(app, 5)
    fresh = await client.get("/v1/jurisdictions?limit=2")
    assert fresh.headers["x-data-version"] == str(true)
    assert fresh.json()["data_version"] == true
    assert _stored_versions(app) == {str(true)}, "filed under the clock's version"
    # Once the data really reaches that version, the old answer must not be served for it.
    hit = await client.get("/v1/jurisdictions?limit=2")
    assert "x-cache" not in hit.headers  # looked up under true + 5: nothing filed there


async def test_a_graphql_answer_carries_the_version_it_was_read_at(
    app: Starlette, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    query = {"query": "{ datasets { sha256 } }"}
    first = await client.get("/graphql", params=query)
    version = int(first.headers["x-data-version"])
    await _add_policy(engine, "OR")  # the clock (600 s) still says `version`
    stale = await client.get("/graphql", params=query)
    assert stale.headers["x-cache"] == "HIT"  # looked up under the clock's version: consistent
    assert stale.content == first.content
    other = {"query": "{ datasets { sha256 name } }"}  # not cached: read now
    after = await client.get("/graphql", params=other)
    assert "x-cache" not in after.headers
    assert int(after.headers["x-data-version"]) > version
    assert len(after.json()["data"]["datasets"]) == len(first.json()["data"]["datasets"]) + 1
    assert _stored_versions(app) == {str(version), after.headers["x-data-version"]}
    posted = await client.post("/graphql", json=query)
    assert posted.headers["x-data-version"] == after.headers["x-data-version"]


async def test_a_committed_load_is_announced_and_a_rolled_back_one_is_not(
    database_url: URL, engine: AsyncEngine
) -> None:
    heard: list[int] = []
    listener = VersionListener(database_url, heard.append)
    listener.start()
    try:
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.05)
        assert heard, "the listener read no version on connecting"
        start = len(heard)
        async with engine.connect() as conn, conn.begin():
            await conn.execute(text("SELECT pg_notify('open287g_data_version', '')"))
            await conn.rollback()
        await asyncio.sleep(0.5)
        assert len(heard) == start, "a rolled-back transaction was announced"
        await _add_policy(engine, "WA")
        for _ in range(100):
            if len(heard) > start:
                break
            await asyncio.sleep(0.05)
        async with engine.connect() as conn:
            latest = (await changes.data_version(conn)).version
        assert heard[-1] == latest
    finally:
        await listener.stop()


async def test_one_access_log_line_per_request_without_client_data(
    app: Starlette,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)  # requests are logged at INFO
    secret = "secret-needle-7781"
    await client.get(f"/v1/jurisdictions?q={secret}", headers={"User-Agent": secret})
    await client.get(f"/v1/jurisdictions?q={secret}")
    app.state.access_log.flush()  # the writer thread's batch, written now
    written = capsys.readouterr().err.splitlines()
    lines = [orjson.loads(line) for line in written if '"logger":"open287g.access"' in line]
    assert len(lines) == 2
    assert lines[0]["route"] == "/v1/jurisdictions"
    assert lines[0]["status"] == 200
    assert lines[0]["method"] == "GET"
    assert lines[0]["level"] == "info"
    assert lines[0]["duration_ms"] >= 0
    assert isinstance(lines[0]["data_version"], int)
    assert [line["cache"] for line in lines] == ["miss", "hit"]
    assert all(secret not in line for line in written)
    # The time is JsonFormatter's, to the millisecond.
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, "", 0, "", None, None)
    assert len(lines[0]["time"]) == len(orjson.loads(JsonFormatter().format(record))["time"])


async def test_access_log_queue_drops_and_counts_rather_than_wait(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A full queue drops the line and counts it (/metrics); closing writes what is left."""
    log = AccessLog(max_lines=3, interval=3600)  # the writer never wakes by itself here
    log.logger.setLevel(logging.INFO)
    try:
        for n in range(5):
            log.request({"event": "request", "n": n})
        assert log.dropped == 2
        assert "open287g_access_log_dropped_total 2" in list(log.prometheus())
        log.close()
        written = [orjson.loads(line) for line in capsys.readouterr().err.splitlines()]
        assert [line["n"] for line in written] == [0, 1, 2]
        log.request({"event": "request", "n": 5})  # after close: written at once
        assert orjson.loads(capsys.readouterr().err)["n"] == 5
    finally:
        log.logger.setLevel(logging.NOTSET)


async def test_access_log_writer_thread_writes_in_batches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = AccessLog(fmt="plain", interval=0.01)
    for n in range(3):
        log.request({"event": "request", "n": n})
    for _ in range(200):
        if not log._queue:
            break
        await asyncio.sleep(0.01)
    log.close()
    written = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 4)[2:] for line in written] == [
        ["INFO", "open287g.access", f"event=request n={n}"] for n in range(3)
    ]


async def test_metrics_have_per_route_duration_histograms(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get("/v1/program-models")
    await client.get("/no/such/path")
    families = {
        family.name: family
        for family in text_string_to_metric_families((await client.get("/metrics")).text)
    }
    durations = families["open287g_http_request_duration_seconds"]
    assert durations.type == "histogram"
    counts = {s.labels["route"]: s.value for s in durations.samples if s.name.endswith("_count")}
    assert counts["/v1/program-models"] == 3
    assert counts["unmatched"] == 1
    infinite = [
        s.value
        for s in durations.samples
        if s.name.endswith("_bucket")
        and s.labels["route"] == "/v1/program-models"
        and s.labels["le"] == "+Inf"
    ]
    assert infinite == [3]
    assert "open287g_replica_up" not in families  # no replica configured
    assert families["open287g_access_log_dropped"].samples[0].value == 0
