"""The response cache serves repeated GraphQL POSTs (issue 11): keyed by the canonical
request and the data version, server-side only, the body replayed unchanged on a miss."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send

from open287g.config import Settings
from open287g.db.queries.changes import DataVersion
from open287g.web.cache import MemoryCache, ResponseCacheMiddleware
from open287g.web.ratelimit import GRAPHQL_COST
from tests.support.fixtures import add_policy, app_client

JSON = {"Content-Type": "application/json"}
PAGE = "query J($n: Int!) { jurisdictions(first: $n) { edges { node { id name } } } }"
TWO_OPERATIONS = "query A { programModels { code } } query B { programModels { name } }"


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(engine, Settings()) as http:
        yield http


async def _post(http: httpx.AsyncClient, body: bytes | Mapping[str, object]) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return await http.post("/graphql", content=content, headers=JSON)


async def test_a_repeated_post_is_a_hit_without_http_caching(client: httpx.AsyncClient) -> None:
    request = {"query": PAGE, "variables": {"n": 3}}
    first = await _post(client, request)
    second = await _post(client, request)
    assert first.status_code == second.status_code == 200
    assert "x-cache" not in first.headers
    assert second.headers["x-cache"] == "HIT"
    assert second.content == first.content
    assert len(second.json()["data"]["jurisdictions"]["edges"]) == 3
    assert second.headers["x-data-version"] == first.headers["x-data-version"]
    assert second.headers["cache-control"] == "no-store"
    for response in (first, second):  # nothing lets an HTTP cache store a POST
        assert "etag" not in response.headers
        assert "last-modified" not in response.headers
        assert "max-age" not in response.headers.get("cache-control", "")
    # A conditional POST is never answered 304.
    conditional = await client.post(
        "/graphql", content=orjson.dumps(request), headers={**JSON, "If-None-Match": "*"}
    )
    assert conditional.status_code == 200
    assert conditional.content == first.content


async def test_what_makes_a_different_key(client: httpx.AsyncClient) -> None:
    """Variables and operationName are part of the key; the document text is taken as
    sent (whitespace-different documents are different keys); variables are canonical
    (key order does not matter)."""
    await _post(client, {"query": PAGE, "variables": {"n": 2}})
    other = await _post(client, {"query": PAGE, "variables": {"n": 1}})
    assert "x-cache" not in other.headers
    assert len(other.json()["data"]["jurisdictions"]["edges"]) == 1

    a = await _post(client, {"query": TWO_OPERATIONS, "operationName": "A"})
    b = await _post(client, {"query": TWO_OPERATIONS, "operationName": "B"})
    assert "x-cache" not in b.headers
    assert "code" in a.json()["data"]["programModels"][0]
    assert "name" in b.json()["data"]["programModels"][0]
    assert (await _post(client, {"query": TWO_OPERATIONS, "operationName": "B"})).headers[
        "x-cache"
    ] == "HIT"

    spaced = await _post(client, {"query": PAGE.replace(" {", "  {"), "variables": {"n": 2}})
    assert "x-cache" not in spaced.headers

    filtered = "query F($f: JurisdictionFilter, $n: Int) { jurisdictions(filter: $f, first: $n)"
    filtered += " { edges { node { id } } } }"
    await _post(
        client,
        b'{"query": "' + filtered.encode() + b'", "variables": {"n": 2, "f": {"kind": "STATE"}}}',
    )
    swapped = await _post(
        client,
        b'{"variables":{"f":{"kind":"STATE"},"n":2},"query":"' + filtered.encode() + b'"}',
    )
    assert swapped.status_code == 200
    assert swapped.headers["x-cache"] == "HIT"


async def test_a_load_makes_a_post_miss(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    request = {"query": "{ programModels { code } }"}
    first = await _post(client, request)
    assert (await _post(client, request)).headers["x-cache"] == "HIT"
    await add_policy(engine, "NM")
    after = await _post(client, request)
    assert "x-cache" not in after.headers
    assert int(after.headers["x-data-version"]) > int(first.headers["x-data-version"])
    assert (await _post(client, request)).headers["x-cache"] == "HIT"


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b'{"query": "{ programModels { code } }"', "application/json"),  # truncated
        (b'"{ programModels { code } }"', "application/json"),  # not an object
        (b'{"variables": {}}', "application/json"),  # no query
        (b'{"query": "{ programModels { code } }"}', "text/plain"),
        (b"{ programModels { code } }", "application/graphql"),
        (b'{"query": "mutation { programModels { code } }"}', "application/json"),
        # Conservative: the word alone keeps a valid query out of the cache.
        (b'{"query": "{ programModels { code } } # mutation"}', "application/json"),
    ],
)
async def test_what_is_not_cached_passes_through(
    engine: AsyncEngine, content: bytes, content_type: str
) -> None:
    """Each is answered exactly as with the cache off, and never from the cache."""
    answers = []
    for cache in (False, True):
        async with app_client(engine, Settings(response_cache=cache)) as http:
            headers = {"Content-Type": content_type}
            answers.append([await http.post("/graphql", content=content, headers=headers)])
            answers[-1].append(await http.post("/graphql", content=content, headers=headers))
    off, on = answers
    assert [r.status_code for r in on] == [r.status_code for r in off]
    assert [r.content for r in on] == [r.content for r in off]
    assert all("x-cache" not in r.headers for r in on)
    if b"mutation" not in content:
        assert on[0].status_code >= 400


def _pieces(body: bytes, size: int) -> list[bytes]:
    return [body[start : start + size] for start in range(0, len(body), size)]


async def _chunks(body: bytes, size: int) -> AsyncIterator[bytes]:
    """Sent chunked (no Content-Length), one ASGI message per piece."""
    for piece in _pieces(body, size):
        yield piece


async def test_a_body_over_the_limit_is_still_refused(engine: AsyncEngine) -> None:
    settings = Settings(max_body_bytes=2048)
    body = orjson.dumps({"query": "{ programModels { code } }", "variables": {"x": "p" * 4000}})
    async with app_client(engine, settings) as http:
        by_length = await http.post("/graphql", content=body, headers=JSON)
        streamed = await http.post("/graphql", content=_chunks(body, 500), headers=JSON)
        assert by_length.status_code == streamed.status_code == 413
        assert "x-cache" not in streamed.headers


async def test_concurrent_misses_get_their_own_bodies(client: httpx.AsyncClient) -> None:
    """40 POSTs at once, streamed in odd-sized chunks, 2 of each variables: every answer
    is the one its own variables ask for, whether it ran or came from the cache."""

    async def page(n: int) -> tuple[int, httpx.Response]:
        body = orjson.dumps({"query": PAGE, "variables": {"n": n}, "operationName": "J"})
        response = await client.post("/graphql", content=_chunks(body, 7 + n), headers=JSON)
        return n, response

    results = await asyncio.gather(*(page(1 + i % 20) for i in range(40)))
    for n, response in results:
        assert response.status_code == 200, response.text
        assert len(response.json()["data"]["jurisdictions"]["edges"]) == n
    again = await asyncio.gather(*(page(n) for n in range(1, 21)))
    assert all(response.headers["x-cache"] == "HIT" for _, response in again)


async def test_the_body_replayed_on_a_miss_is_byte_identical() -> None:
    """Below the cache, the app reads exactly the bytes the client sent, in the chunks sent."""
    seen: list[list[bytes]] = []

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        seen.append(chunks)
        headers = [(b"content-type", b"application/json"), (b"x-data-version", b"7")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    async def version() -> DataVersion:
        return DataVersion(version=7, modified=None, oldest_retained=0)

    app = ResponseCacheMiddleware(echo, MemoryCache(), version, namespace="test")
    body = orjson.dumps({"query": PAGE, "variables": {"n": 5, "s": 'é\u2028\\"x'}})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        first = await http.post("/graphql", content=_chunks(body, 11), headers=JSON)
        second = await http.post("/graphql", content=body, headers=JSON)
    assert first.content == second.content == body
    assert second.headers["x-cache"] == "HIT"
    assert len(seen) == 1
    assert b"".join(seen[0]) == body
    assert [chunk for chunk in seen[0] if chunk] == _pieces(body, 11)


async def test_cached_posts_are_still_rate_limited(engine: AsyncEngine) -> None:
    """The limiter runs outside the cache: a hit is charged like a miss."""
    settings = Settings(rate_limit_per_second=0.01, rate_limit_burst=3 * GRAPHQL_COST)
    async with app_client(engine, settings) as http:
        request = {"query": "{ programModels { code } }"}
        answers = [await _post(http, request) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[2].headers["x-cache"] == "HIT"


async def test_accept_does_not_change_a_post_answer(engine: AsyncEngine) -> None:
    """Accept is not in the key, which is right only while the app answers the same JSON
    whatever the client accepts (the schema has no subscriptions: nothing streams)."""
    request = orjson.dumps({"query": "{ programModels { code } }", "operationName": None})
    accepts = (
        None,
        "text/event-stream",
        'multipart/mixed;subscriptionSpec="1.0", application/json',
        "application/graphql-response+json",
    )
    answers: dict[bool, list[httpx.Response]] = {}
    for cache in (False, True):
        async with app_client(engine, Settings(response_cache=cache)) as http:
            answers[cache] = [
                await http.post(
                    "/graphql", content=request, headers={**JSON, **({"Accept": a} if a else {})}
                )
                for a in accepts
            ]
    assert all(r.headers["x-cache"] == "HIT" for r in answers[True][1:])
    for off, on in zip(answers[False], answers[True], strict=True):
        assert on.content == off.content
        assert on.headers["content-type"] == off.headers["content-type"]
