"""Rate limits per client: token buckets that refill, costlier requests cost more, 429 with
Retry-After and the IETF RateLimit fields, shared through Redis and degrading to this
process's buckets when Redis is out."""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from load_tests.server import free_port
from open287g.app import create_app
from open287g.config import Settings
from open287g.web.breaker import RedisLink
from open287g.web.ratelimit import (
    EXPORT_COST,
    GRAPHQL_COST,
    STATS_COST,
    MemoryBuckets,
    RedisBuckets,
    client_key,
    request_cost,
)
from tests.support.redis_server import start_redis

BURST = 30
RATE = 2.0


def _scope(path: str, query: bytes = b"", method: str = "GET") -> dict[str, object]:
    return {"type": "http", "path": path, "query_string": query, "method": method}


def test_costs_follow_what_a_request_may_cost() -> None:
    assert request_cost(_scope("/v1/agreements")) == 1
    assert request_cost(_scope("/v1/agreements", b"format=csv")) == EXPORT_COST
    assert request_cost(_scope("/v1/stats/detainers", b"format=ndjson")) == EXPORT_COST
    assert request_cost(_scope("/v1/stats/agreements", b"group_by=state")) == STATS_COST
    assert request_cost(_scope("/graphql", b"query=%7Ba%7D")) == GRAPHQL_COST
    assert request_cost(_scope("/graphql", method="POST")) == GRAPHQL_COST
    assert request_cost(_scope("/graphql")) == 1  # the GraphiQL page
    assert 1 < STATS_COST <= GRAPHQL_COST < EXPORT_COST


def test_clients_are_socket_addresses_ipv6_by_prefix() -> None:
    assert client_key({"client": ("203.0.113.7", 5555)}) == "203.0.113.7"
    one = client_key({"client": ("2001:db8:1:2:aaaa::1", 1)})
    assert one == client_key({"client": ("2001:db8:1:2:ffff::9", 2)})
    assert one != client_key({"client": ("2001:db8:1:3::1", 1)})
    assert client_key({}) == "unknown"


def test_memory_bucket_refills_and_bounds_its_clients() -> None:
    buckets = MemoryBuckets(rate=1.0, burst=3, max_clients=100)
    assert [buckets.take("a", 1, now=0.0).allowed for _ in range(4)] == [True] * 3 + [False]
    assert buckets.take("b", 1, now=0.0).allowed  # one client's bucket is its own
    assert not buckets.take("a", 2, now=1.0).allowed  # 1 token back, 2 needed
    assert buckets.take("a", 2, now=2.0).allowed
    for i in range(500):
        buckets.take(f"c{i}", 1, now=3.0)
    assert len(buckets.buckets) == 100


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Settings(rate_limit_per_second=RATE, rate_limit_burst=BURST, response_cache=False),
        engine=engine,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await app.state.response_cache.aclose()


def _fields(response: httpx.Response) -> tuple[int, int, int, int]:
    policy = re.fullmatch(r'"default";q=(\d+);w=(\d+)', response.headers["ratelimit-policy"])
    state = re.fullmatch(r'"default";r=(\d+);t=(\d+)', response.headers["ratelimit"])
    assert policy is not None
    assert state is not None
    return int(policy[1]), int(policy[2]), int(state[1]), int(state[2])


async def test_a_client_over_its_limit_gets_429_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    first = await client.get("/v1/program-models")
    quota, window, remaining, _ = _fields(first)
    assert (quota, window) == (BURST, BURST // RATE)
    assert remaining == BURST - 1
    statuses = []
    for _ in range(BURST):
        response = await client.get("/v1/stats/agreements?group_by=state")
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses[-1] == 429
    assert len(statuses) <= BURST // STATS_COST + 1  # stats cost more than pages
    refused = response
    assert refused.headers["content-type"] == "application/problem+json"
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= STATS_COST / RATE + 1
    _, _, remaining, reset = _fields(refused)
    assert remaining < STATS_COST
    assert reset >= retry_after
    assert refused.headers["access-control-allow-origin"] == "*"  # a browser can read it
    for operations in ("/healthz", "/readyz", "/metrics"):  # never limited
        answer = await client.get(operations)
        assert answer.status_code != 429
        assert "ratelimit" not in answer.headers


async def test_tokens_come_back(client: httpx.AsyncClient) -> None:
    import asyncio

    while (await client.get("/v1/program-models")).status_code != 429:
        pass
    await asyncio.sleep(1.0 / RATE + 0.1)
    assert (await client.get("/v1/program-models")).status_code == 200


def test_openapi_documents_429_everywhere() -> None:
    from open287g.api.openapi import openapi_document

    for item in openapi_document()["paths"].values():
        assert "429" in item["get"]["responses"]


# ---------------------------------------------------------------- Redis-shared buckets


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of our own (killed by the test), never the system one."""
    process, url = start_redis(free_port())
    yield process, url
    process.kill()
    process.wait()


async def test_buckets_are_shared_through_redis_and_survive_its_loss(
    own_redis: tuple[subprocess.Popen[bytes], str], engine: AsyncEngine
) -> None:
    redis_process, url = own_redis
    settings = Settings(
        rate_limit_per_second=0.01, rate_limit_burst=10, response_cache=False, redis_url=url
    )
    apps = [create_app(settings, engine=engine) for _ in range(2)]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        for app in apps
    ]
    try:
        statuses = [(await clients[i % 2].get("/v1/program-models")).status_code for i in range(12)]
        assert statuses[:10] == [200] * 10  # one bucket for both processes
        assert statuses[10:] == [429, 429]
        await clients[0].get("/healthz")
        redis_process.kill()
        redis_process.wait()
        after = [(await clients[0].get("/v1/program-models")).status_code for _ in range(15)]
        assert 500 not in after
        assert 200 in after  # this process's own bucket took over
        assert 429 in after  # ... and it limits too
    finally:
        for http, app in zip(clients, apps, strict=True):
            await http.aclose()
            await app.state.response_cache.aclose()


async def test_redis_buckets_answer_none_when_redis_is_out() -> None:
    link = RedisLink(f"redis://127.0.0.1:{free_port()}/0")
    buckets = RedisBuckets(link, rate=1.0, burst=5)
    assert await buckets.take("a", 1) is None
    assert link.breaker.state == "open"
    await link.aclose()
