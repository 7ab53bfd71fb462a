"""Redis killed and restarted under load, against the real server with REDIS_URL set: the
cache is optional, so an outage must cost only speed (0 errors, 0 dropped connections),
/readyz must say so and stay 200, and the cache must come back by itself."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import URL

from load_tests.server import free_port
from tests.support.live import LiveServer, start_live_server
from tests.support.redis_server import start_redis

PATHS = [
    "/v1/jurisdictions?limit=5",
    "/v1/program-models",
    "/graphql?query=%7BprogramModels%7Bcode%7D%7D",
]


@pytest.fixture(scope="module")
async def redis_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
async def server(database_url: URL, redis_port: int) -> AsyncIterator[LiveServer]:
    process, url = start_redis(redis_port)
    # The rate limiter shares the Redis link: let it run too (generous), so its fallback
    # is exercised under the same outage.
    live = await start_live_server(
        database_url,
        REDIS_URL=url,
        OPEN287G_RATE_LIMIT_PER_SECOND="100000",
        OPEN287G_RATE_LIMIT_BURST="100000",
    )
    live.redis = process  # type: ignore[attr-defined]
    yield live
    live.stop()
    live.redis.kill()  # type: ignore[attr-defined]
    live.redis.wait()  # type: ignore[attr-defined]


async def _load(
    http: httpx.AsyncClient, stop: asyncio.Event, results: Counter[str], hits: list[float]
) -> None:
    i = 0
    while not stop.is_set():
        path = PATHS[i % len(PATHS)]
        i += 1
        try:
            response = await http.get(path)
        except httpx.TransportError as exc:
            results[f"transport:{type(exc).__name__}"] += 1
            continue
        results[str(response.status_code)] += 1
        if response.headers.get("x-cache") == "HIT":
            hits.append(time.monotonic())


async def test_redis_outage_costs_no_errors_and_heals(server: LiveServer, redis_port: int) -> None:
    results: Counter[str] = Counter()
    hits: list[float] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        workers = [asyncio.create_task(_load(http, stop, results, hits)) for _ in range(8)]
        await asyncio.sleep(1.5)
        assert hits, "the Redis cache was not used before the outage"
        ready = (await http.get("/readyz")).json()
        assert ready["cache"] == {"backend": "redis", "state": "ok"}

        server.redis.kill()  # type: ignore[attr-defined]
        server.redis.wait()  # type: ignore[attr-defined]
        killed_at = time.monotonic()
        await asyncio.sleep(3.0)
        during = await http.get("/readyz")
        assert during.status_code == 200
        assert during.json()["cache"]["state"] == "unavailable"
        hits_during = [t for t in hits if t > killed_at + 0.5]

        server.redis, _ = start_redis(redis_port)  # type: ignore[attr-defined]
        restarted_at = time.monotonic()
        recovered_at = None
        while time.monotonic() - restarted_at < 20:
            await asyncio.sleep(0.25)
            later = [t for t in hits if t > restarted_at]
            if later:
                recovered_at = later[0]
                break
        stop.set()
        await asyncio.gather(*workers)
        after = (await http.get("/readyz")).json()

    errors = {k: n for k, n in results.items() if not k.startswith("2")}
    assert errors == {}, f"errors while Redis was out: {errors} of {sum(results.values())}"
    assert sum(results.values()) > 100
    assert hits_during == [], "a HIT with Redis dead: something else is caching"
    assert recovered_at is not None, "the cache did not come back after Redis restarted"
    assert recovered_at - restarted_at < 10
    assert after["cache"]["state"] == "ok"
