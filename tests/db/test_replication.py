"""Beyond one machine (#15), for real: a PostgreSQL primary and a streaming replica (from
the embedded binaries, `load_tests/replication.py`), one Redis of the test's own, and two
`open287g serve` processes reading from the replica (DATABASE_REPLICA_URL) and sharing
the Redis response cache, with OPEN287G_VERSION_CHECK_SECONDS=600 so that only LISTEN/NOTIFY
can tell them about a load.

- A new ICE list loaded on the primary while the replica's replay is paused: every process
  keeps serving the version the replica holds (lag visible in /readyz and /metrics); once
  replay resumes every process serves the new list within seconds; no answer mixes two
  versions, and no cache entry is filed under a version other than the one it was read at.
- The replica stopped under load: reads fall back to the primary, 0 errors; the replica
  started again: reads return to it.

Numbers measured are printed (`pytest -s`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as redis
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from load_tests.replication import Cluster, add_replica, cannot_run_reason, make_primary
from load_tests.server import free_port
from open287g.config import Settings
from open287g.db import migrate
from open287g.loaders.ice287g.load import load_sources, plan_sources
from tests.support.fixtures import ICE_DIR, ICE_FILES
from tests.support.live import LiveServer, libpq_url, start_live_server
from tests.support.redis_server import start_redis

UNRUNNABLE = cannot_run_reason()
pytestmark = [
    pytest.mark.skipif(UNRUNNABLE is not None, reason=f"embedded PostgreSQL: {UNRUNNABLE}"),
    pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present"),
]

DATASETS_QUERY = "{ datasets { sha256 } }"


@dataclass
class Deployment:
    cluster: Cluster
    servers: list[LiveServer]
    redis_url: str


@pytest.fixture(scope="module")
async def deployment() -> AsyncIterator[Deployment]:
    root, primary = make_primary()
    cluster = Cluster(root, primary, primary)
    servers: list[LiveServer] = []
    redis_process = None
    try:
        await asyncio.to_thread(migrate.upgrade, primary.url)
        engine = create_async_engine(primary.url, poolclass=NullPool)
        try:
            await load_sources(engine, plan_sources([str(p) for p in ICE_FILES[:2]]), Settings())
        finally:
            await engine.dispose()
        cluster = await asyncio.to_thread(add_replica, root, primary)
        redis_process, redis_url = start_redis(free_port())
        for _ in range(2):
            servers.append(
                await start_live_server(
                    primary.url,
                    DATABASE_REPLICA_URL=libpq_url(cluster.replica.url),
                    REDIS_URL=redis_url,
                    OPEN287G_VERSION_CHECK_SECONDS="600",
                )
            )
        yield Deployment(cluster, servers, redis_url)
    finally:
        for server in servers:
            server.stop()
        if redis_process is not None:
            redis_process.kill()
            redis_process.wait()
        cluster.stop()


async def _sql(url: Any, statement: str) -> Any:
    engine = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text(statement))).scalar()
    finally:
        await engine.dispose()


async def _load(url: Any, *paths: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await load_sources(engine, plan_sources(list(paths)), Settings())
    finally:
        await engine.dispose()


@dataclass
class Seen:
    server: int
    kind: str
    started: float
    ended: float
    status: int | None
    version: int | None = None  # what the answer says it was read at
    count: int | None = None  # datasets in the answer
    hit: bool = False
    problem: str | None = None


@dataclass
class Watch:
    """Clients asking every process for the list of datasets, three ways, all the time."""

    servers: list[LiveServer]
    seen: list[Seen] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _ask(self, http: httpx.AsyncClient, index: int, kind: str) -> None:
        base = self.servers[index].base_url
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                if kind == "rest":
                    response = await http.get(f"{base}/v1/datasets")
                elif kind == "graphql-get":
                    response = await http.get(f"{base}/graphql", params={"query": DATASETS_QUERY})
                else:
                    response = await http.post(f"{base}/graphql", json={"query": DATASETS_QUERY})
            except httpx.TransportError as exc:
                self.seen.append(
                    Seen(index, kind, started, time.monotonic(), None, problem=repr(exc))
                )
                continue
            seen = Seen(index, kind, started, time.monotonic(), response.status_code)
            seen.hit = response.headers.get("x-cache") == "HIT"
            header = response.headers.get("x-data-version")
            seen.version = int(header) if header else None
            body = response.json() if response.status_code == 200 else {}
            if kind == "rest" and body:
                seen.count = len(body["data"])
                if body["data_version"] != seen.version:
                    seen.problem = f"body {body['data_version']} != header {seen.version}"
            elif body:
                if body.get("errors"):
                    seen.problem = f"errors {body['errors']}"
                else:
                    seen.count = len(body["data"]["datasets"])
            self.seen.append(seen)

    def start(self, http: httpx.AsyncClient) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self._ask(http, index, kind))
            for index in range(len(self.servers))
            for kind in ("rest", "graphql-get", "graphql-post")
        ]


async def _readyz(http: httpx.AsyncClient, server: LiveServer) -> dict[str, Any]:
    response = await http.get(f"{server.base_url}/readyz")
    assert response.status_code == 200, response.text
    replica: dict[str, Any] = response.json()["replica"]
    return replica


async def _metrics(http: httpx.AsyncClient, server: LiveServer) -> dict[str, float]:
    """/metrics as a Prometheus client reads it: sample name (with labels) → value."""
    response = await http.get(f"{server.base_url}/metrics")
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


async def _until(condition: Any, seconds: float) -> float:
    """Poll `condition()` (async) until true; the time it took. Fails after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await condition():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


async def test_a_load_reaches_every_process_once_the_replica_has_replayed_it(
    deployment: Deployment,
) -> None:
    primary, replica = deployment.cluster.primary, deployment.cluster.replica
    servers = deployment.servers
    watch = Watch(servers)
    async with httpx.AsyncClient(timeout=10) as http:
        before = (await http.get(f"{servers[0].base_url}/v1/datasets")).json()
        v0, n0 = before["data_version"], len(before["data"])
        await _sql(replica.url, "SELECT pg_wal_replay_pause()")
        tasks = watch.start(http)
        try:
            await asyncio.sleep(0.5)
            await _load(primary.url, str(ICE_FILES[2]))
            v1 = int(await _sql(primary.url, "SELECT max(seq) FROM changes"))
            assert v1 > v0

            async def lag_shown() -> bool:
                details = [await _readyz(http, server) for server in servers]
                return all(
                    d["lag_bytes"] and d["replica_data_version"] == v0 for d in details
                ) and all(d["primary_data_version"] == v1 for d in details)

            await _until(lag_shown, 5)
            lagging = await _readyz(http, servers[0])
            metrics = await _metrics(http, servers[0])
            assert metrics["open287g_replica_lag_bytes"] > 0
            assert metrics["open287g_replica_data_version"] == v0
            assert metrics["open287g_reads_from_replica"] == 1
            await asyncio.sleep(0.5)  # every process was told (NOTIFY); none may serve v1 yet
            resumed = time.monotonic()
            await _sql(replica.url, "SELECT pg_wal_replay_resume()")

            async def everyone_serves_v1() -> bool:
                recent = [s for s in watch.seen if s.started > resumed]
                return all(
                    any(s.server == i and s.version == v1 for s in recent)
                    for i in range(len(servers))
                )

            took = await _until(everyone_serves_v1, 10)
            await asyncio.sleep(1.0)
        finally:
            watch.stop.set()
            await asyncio.gather(*tasks)
        keys = await _cache_entries(deployment.redis_url)

    seen = watch.seen
    print(
        f"\nreplication: v{v0} ({n0} datasets) -> v{v1}; lag while paused {lagging};"
        f" every process served v{v1} {took:.2f} s after replay resumed"
        f" (OPEN287G_VERSION_CHECK_SECONDS=600); answers {len(seen)},"
        f" cache hits {sum(s.hit for s in seen)}, Redis entries {len(keys)}"
    )
    assert all(s.status == 200 and s.problem is None for s in seen), [
        s for s in seen if s.status != 200 or s.problem
    ][:5]
    expected = {v0: n0, v1: n0 + 1}
    mixed = [s for s in seen if s.version not in expected or expected[s.version] != s.count]
    assert not mixed, mixed[:5]
    early = [s for s in seen if s.version == v1 and s.ended < resumed]
    assert not early, f"served v{v1} before the replica replayed it: {early[:3]}"
    for index in range(len(servers)):
        first = min(s.ended for s in seen if s.server == index and s.version == v1)
        stale = [s for s in seen if s.server == index and s.started > first and s.version == v0]
        assert not stale, f"process {index} went back to v{v0}: {stale[:3]}"
    assert sum(s.hit for s in seen if s.version == v1) > 0, "the shared cache was not used"
    assert keys, "nothing was stored in the shared cache"
    assert all(key_version == read_at for key_version, read_at in keys), keys


async def _cache_entries(url: str) -> list[tuple[int, int]]:
    """(version in the key, version the stored answer was read at) for every entry."""
    client = redis.from_url(url)
    try:
        entries = []
        async for key in client.scan_iter("open287g:*@*"):
            value = await client.get(key)
            if not isinstance(value, bytes):
                continue
            # namespace@VERSION[~coding]:request (one entry per content coding)
            key_version = int(key.decode().split("@", 1)[1].split(":", 1)[0].split("~", 1)[0])
            _status, headers = orjson.loads(value.partition(b"\n")[0])
            read_at = next(int(v) for k, v in headers if k.lower() == "x-data-version")
            entries.append((key_version, read_at))
        return entries
    finally:
        await client.aclose()


PAGE_QUERY = '{ agreements(first: %d, filter: {state: "%s"}) { totalCount edges { node { id } } } }'
STATES = ["TX", "FL", "GA", "AL", "NC", "LA", "AZ", "OK", "VA", "SC"]


@dataclass
class Traffic:
    """Uncached reads (a new page size each time) to every process, REST and GraphQL."""

    servers: list[LiveServer]
    results: Counter[str] = field(default_factory=Counter)
    times: list[tuple[float, int | None]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _run(self, http: httpx.AsyncClient, index: int, kind: str) -> None:
        base = self.servers[index].base_url
        i = 0
        while not self.stop.is_set():
            i += 1
            size, state = 1 + (i * 7 + index) % 1000, STATES[i % len(STATES)]
            started = time.monotonic()
            try:
                if kind == "rest":
                    response = await http.get(f"{base}/v1/agreements?limit={size}&state={state}")
                else:
                    query = PAGE_QUERY % (1 + size % 100, state)
                    response = await http.post(f"{base}/graphql", json={"query": query})
            except httpx.TransportError as exc:
                self.results[f"{kind}:{type(exc).__name__}"] += 1
                self.times.append((started, None))
                continue
            errors = kind != "rest" and response.status_code == 200 and "errors" in response.json()
            self.results[f"{kind}:{response.status_code}{':errors' if errors else ''}"] += 1
            self.times.append((started, None if errors else response.status_code))

    def start(self, http: httpx.AsyncClient) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self._run(http, index, kind))
            for index in range(len(self.servers))
            for kind in ("rest", "graphql", "rest")
        ]


async def test_a_stopped_replica_costs_no_errors_and_reads_come_back(
    deployment: Deployment,
) -> None:
    replica, servers = deployment.cluster.replica, deployment.servers
    traffic = Traffic(servers)
    async with httpx.AsyncClient(timeout=15) as http:
        tasks = traffic.start(http)
        try:
            await asyncio.sleep(1.5)
            stopped = time.monotonic()
            await asyncio.to_thread(replica.stop, "fast")

            async def on_primary() -> bool:
                details = [await _readyz(http, s) for s in servers]
                return all(d["serving_reads_from"] == "primary" for d in details)

            await _until(on_primary, 10)
            failover = time.monotonic() - stopped
            down = await _metrics(http, servers[1])
            assert down["open287g_replica_up"] == 0
            assert down["open287g_reads_from_replica"] == 0
            await asyncio.sleep(2.0)
            back = time.monotonic()
            await asyncio.to_thread(replica.start)

            async def on_replica() -> bool:
                details = [await _readyz(http, s) for s in servers]
                return all(d["serving_reads_from"] == "replica" for d in details)

            returned = await _until(on_replica, 10)
            await asyncio.sleep(1.5)
        finally:
            traffic.stop.set()
            await asyncio.gather(*tasks)
        ready = await _readyz(http, servers[0])

    during = [status for started, status in traffic.times if stopped <= started < back]
    print(
        f"\nreplica stopped: reads on the primary {failover:.2f} s later (readyz);"
        f" back on the replica {returned:.2f} s after it restarted;"
        f" answers {dict(traffic.results)};"
        f" while it was down {len(during)} answers, {sum(s != 200 for s in during)} not 200"
    )
    failed = {k: n for k, n in traffic.results.items() if not k.endswith(":200")}
    assert not failed, f"errors during the replica's outage: {failed}"
    assert len(during) > 20, "too little traffic while the replica was down to tell"
    assert failover < 5
    assert ready["state"] == "ok"
    assert ready["failovers"] >= 1
