"""The response cache: hits are byte-identical, keyed to the data version, bounded; the
Redis variant runs when REDIS_URL is set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.api.app import create_app
from open287g.api.cache import MemoryCache, RedisCache
from open287g.config import Settings
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import SourceDocument
from tests.conftest import REDIS_URL_FOR_TESTS

HEADER = (
    "jurisdiction_level,state,name,fips,status,declared_sanctuary,policy_name,"
    "effective_date,source_title,source_url,notes\n"
)


async def _client(engine: AsyncEngine, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)  # runs no lifespan: close the cache here
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await app.state.response_cache.aclose()


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(engine, Settings()):
        yield http


async def _add_policy(engine: AsyncEngine, state: str) -> None:
    row = f"state,{state},x,,LIMITS,false,,,Test,,\n"
    await load_policy_document(
        engine, SourceDocument(f"{state}.csv", (HEADER + row).encode()), Settings()
    )


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
    await _add_policy(engine, "TX")
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


async def test_graphql_get_is_cached_post_is_not(client: httpx.AsyncClient) -> None:
    query = {"query": "{ programModels { code } }"}
    await client.get("/graphql", params=query)
    assert (await client.get("/graphql", params=query)).headers["x-cache"] == "HIT"
    assert "x-cache" not in (await client.post("/graphql", json=query)).headers


async def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(max_bytes=10)
    await cache.set("a", b"12345")
    await cache.set("b", b"12345")
    assert await cache.get("a") == b"12345"  # now most recent
    await cache.set("c", b"12345")
    assert await cache.get("b") is None
    assert await cache.get("a") == b"12345"
    assert cache.size == 10


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL_FOR_TESTS, reason="REDIS_URL not set: Redis cache untested")
async def test_redis_cache_is_shared_between_apps(engine: AsyncEngine) -> None:
    assert REDIS_URL_FOR_TESTS is not None
    settings = Settings(redis_url=REDIS_URL_FOR_TESTS)
    cache = RedisCache(REDIS_URL_FOR_TESTS)
    await cache.client.flushdb()
    try:
        async for one in _client(engine, settings):
            first = await one.get("/v1/jurisdictions?limit=3")
        async for other in _client(engine, settings):
            second = await other.get("/v1/jurisdictions?limit=3")
        assert second.headers["x-cache"] == "HIT"
        assert second.content == first.content
    finally:
        await cache.client.flushdb()
        await cache.client.aclose()


async def test_cache_key_ignores_parameter_order(client: httpx.AsyncClient) -> None:
    await client.get("/v1/jurisdictions?kind=STATE&limit=2")
    swapped = await client.get("/v1/jurisdictions?limit=2&kind=STATE")
    assert swapped.headers["x-cache"] == "HIT"
