"""The response cache: hits are byte-identical, keyed to the data version, bounded; the
Redis variant runs when REDIS_URL is set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.web import breaker
from open287g.web.breaker import RedisLink
from open287g.web.cache import MAX_KEY_CHARS, MemoryCache, RedisCache
from tests.support.database import StatementCounter
from tests.support.environment import REDIS_URL_FOR_TESTS
from tests.support.fixtures import add_policy, app_client


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(engine, Settings()) as http:
        yield http


async def test_second_request_is_a_hit_until_the_data_changes(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    first = await client.get("/v1/program-models")
    second = await client.get("/v1/program-models")
    assert "x-cache" not in first.headers
    assert second.headers["x-cache"] == "HIT"
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    not_modified = await client.get(
        "/v1/program-models", headers={"If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304
    await add_policy(engine, "TX")
    third = await client.get("/v1/program-models")
    assert "x-cache" not in third.headers
    assert third.headers["etag"] != first.headers["etag"]


async def test_errors_and_exports_are_not_cached(client: httpx.AsyncClient) -> None:
    for _ in range(2):
        bad = await client.get("/v1/agreements?limit=0")
        assert bad.status_code == 400
        assert "x-cache" not in bad.headers
        export = await client.get("/v1/program-models?format=csv")
        assert "x-cache" not in export.headers


async def test_graphql_get_and_post_are_cached_apart(client: httpx.AsyncClient) -> None:
    """A GET entry carries HTTP validators a POST answer must not: never shared (POSTs:
    tests/web/test_cache_post.py)."""
    query = {"query": "{ programModels { code } }"}
    await client.get("/graphql", params=query)
    assert (await client.get("/graphql", params=query)).headers["x-cache"] == "HIT"
    post = await client.post("/graphql", json=query)
    assert "x-cache" not in post.headers
    assert "etag" not in post.headers


async def test_memory_cache_evicts_least_recently_used() -> None:
    entry = MemoryCache.cost("a", b"12345")
    cache = MemoryCache(max_bytes=2 * entry)
    await cache.set("a", b"12345")
    await cache.set("b", b"12345")
    assert await cache.get("a") == b"12345"  # now most recent
    await cache.set("c", b"12345")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"12345"
    assert cache.size == 2 * entry


async def test_keys_count_toward_the_memory_bound() -> None:
    """3,000 entries with 60 KB keys (what unique 60 KB query strings made) must not grow
    the cache past its bound: keys are counted, not only values."""
    bound = 1024 * 1024
    cache = MemoryCache(max_bytes=bound)
    for i in range(3000):
        await cache.set(f"{i}:" + "k" * 60_000, b"{}")
    held = sum(len(key) + len(value) for key, value in cache.entries.items())
    assert held <= cache.size <= bound


async def test_long_queries_get_short_keys(engine: AsyncEngine) -> None:
    """Through the app: 40 GraphQL GETs each with a unique 60 KB parameter (2.4 MB of keys
    if they were kept whole, over four times the bound) are cached under hashed keys of at
    most MAX_KEY_CHARS, and the cache stays within its bound."""
    async with app_client(engine, Settings()) as http:
        cache = http._transport.app.state.response_cache  # type: ignore[attr-defined]
        cache.max_bytes = 512 * 1024
        for i in range(40):
            pad = f"{i}-" + "p" * 60_000
            response = await http.get(
                "/graphql", params={"query": "{ programModels { code } }", "pad": pad}
            )
            assert response.status_code == 200
        again = await http.get(
            "/graphql", params={"query": "{ programModels { code } }", "pad": pad}
        )
        assert again.headers["x-cache"] == "HIT"
        assert cache.entries
        assert all(len(key) <= MAX_KEY_CHARS for key in cache.entries)
        assert cache.size <= cache.max_bytes


async def test_a_cached_answer_does_not_depend_on_host(engine: AsyncEngine) -> None:
    """Cache poisoning through Host: a request for evil.example must not put evil.example
    links into what later clients get; links come from OPEN287G_PUBLIC_URL."""
    settings = Settings(public_url="https://data.example.org")
    async with app_client(engine, settings) as http:
        path = "/v1/jurisdictions?limit=2"
        poisoned = await http.get(path, headers={"Host": "evil.example"})
        later = await http.get(path)
        assert later.headers["x-cache"] == "HIT"
        for response in (poisoned, later):
            assert response.headers["link"].startswith("<https://data.example.org/v1/")
            assert "evil.example" not in response.text + response.headers["link"]


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL_FOR_TESTS, reason="REDIS_URL not set: Redis cache untested")
async def test_redis_cache_is_shared_between_apps(engine: AsyncEngine) -> None:
    assert REDIS_URL_FOR_TESTS is not None
    settings = Settings(redis_url=REDIS_URL_FOR_TESTS)
    cache = RedisCache(RedisLink(REDIS_URL_FOR_TESTS))
    await cache.link.client.flushdb()
    try:
        async with app_client(engine, settings) as one:
            first = await one.get("/v1/jurisdictions?limit=3")
        async with app_client(engine, settings) as other:
            second = await other.get("/v1/jurisdictions?limit=3")
        assert second.headers["x-cache"] == "HIT"
        assert second.content == first.content
    finally:
        await cache.link.client.flushdb()
        await cache.link.client.aclose()


async def test_cache_key_ignores_parameter_order(client: httpx.AsyncClient) -> None:
    await client.get("/v1/jurisdictions?kind=STATE&limit=2")
    swapped = await client.get("/v1/jurisdictions?limit=2&kind=STATE")
    assert swapped.headers["x-cache"] == "HIT"


STATS = "/v1/stats/detainers?group_by=state,citizenship"


def _stats_statements(counter: StatementCounter) -> int:
    return sum("detainer_cells" in statement for statement in counter.statements)


async def test_concurrent_identical_misses_run_one_statement(
    engine: AsyncEngine, count_statements: StatementCounter
) -> None:
    """#22: 100 concurrent requests for the same uncached statistics wait for one
    computation (single flight), then all get its answer."""
    async with app_client(engine, Settings()) as http:
        answers = await asyncio.gather(*(http.get(STATS) for _ in range(100)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert _stats_statements(count_statements) == 1


async def test_concurrent_misses_across_processes_run_one_statement(
    engine: AsyncEngine, count_statements: StatementCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two apps (two processes' worth of state) sharing Redis: 50 concurrent identical
    misses on each run the statement once (the claim in Redis)."""
    assert REDIS_URL_FOR_TESTS is not None
    # Single flight is under test here, not Redis's short timeouts (tests/web/
    # test_http_redis_fault.py): 100 requests in one test process can hold its event loop
    # past 0.25 s, the breaker then does without Redis, and each app computes on its own
    # (a fresh-clone CI run saw 5 statements so).
    monkeypatch.setattr(breaker, "SOCKET_TIMEOUT_SECONDS", 5.0)
    settings = Settings(redis_url=REDIS_URL_FOR_TESTS)
    cache = RedisCache(RedisLink(REDIS_URL_FOR_TESTS))
    await cache.link.client.flushdb()
    try:
        async with app_client(engine, settings) as one, app_client(engine, settings) as other:
            answers = await asyncio.gather(*(http.get(STATS) for http in [one, other] * 50))
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1
        assert _stats_statements(count_statements) == 1
    finally:
        await cache.link.client.flushdb()
        await cache.link.client.aclose()
