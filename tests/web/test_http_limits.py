"""Request size limits through the real app: bodies over OPEN287G_MAX_BODY_BYTES are 413
before they are read (by Content-Length) or as soon as a streamed body passes the limit;
too many headers are 431."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Message, Receive, Scope, Send

from open287g.app import create_app
from open287g.config import Settings
from open287g.web.request_limits import MAX_HEADERS, RequestLimits

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(rate_limit_per_second=0, max_body_bytes=LIMIT), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await app.state.response_cache.aclose()


def _query_body(size: int) -> bytes:
    """A valid GraphQL POST body of about `size` bytes (an unused variable value)."""
    return orjson.dumps({"query": "{ programModels { code } }", "variables": {"p": "x" * size}})


async def test_a_body_within_the_limit_is_served(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=_query_body(LIMIT // 2), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["programModels"]


async def test_a_declared_length_over_the_limit_is_413_unread(client: httpx.AsyncClient) -> None:
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(1024):
            read += 1024
            yield b"x" * 1024

    response = await client.post(
        "/graphql",
        content=body(),
        headers={"Content-Length": str(1024 * 1024), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert str(LIMIT) in response.json()["detail"]
    assert read <= 1024  # the app never asked for the body


async def test_a_streamed_body_over_the_limit_is_413_as_it_passes(
    client: httpx.AsyncClient,
) -> None:
    sent = 0

    async def body() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        nonlocal sent
        for _ in range(10_000):  # would be 160 MB
            sent += 16 * 1024
            yield b" " * (16 * 1024)

    response = await client.post(
        "/graphql", content=body(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert sent <= LIMIT + 2 * 16 * 1024


async def test_too_many_headers_are_431(client: httpx.AsyncClient) -> None:
    headers = [(f"x-h{i}", "v") for i in range(MAX_HEADERS + 1)]
    response = await client.get("/v1/program-models", headers=headers)
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/problem+json"
    fine = await client.get("/v1/program-models", headers=headers[:50])
    assert fine.status_code == 200


async def test_oversized_headers_are_431(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/program-models", headers={"x-big": "b" * 70_000})
    assert response.status_code == 431


@pytest.mark.parametrize(("http_version", "refused"), [("2", True), ("1.1", False)])
async def test_a_body_without_length_is_counted_unless_http1_says_there_is_none(
    http_version: str, refused: bool
) -> None:
    """HTTP/2 streams carry no Transfer-Encoding: a body without Content-Length is counted
    as it arrives. In HTTP/1.x a request with neither header has no body (RFC 9112 §6.3),
    so there is nothing to count and `receive` is passed on as it is."""
    chunks = [b"x" * 1000] * 5
    sent: list[Message] = []
    receives: list[Receive] = []

    async def receive() -> Message:
        body = chunks.pop() if chunks else b""
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive_: Receive, send_: Send) -> None:
        receives.append(receive_)
        while (await receive_())["more_body"]:
            pass
        await send_({"type": "http.response.start", "status": 200, "headers": []})
        await send_({"type": "http.response.body", "body": b""})

    limits = RequestLimits(app, max_body_bytes=2500, max_header_bytes=8192)
    scope = {"type": "http", "http_version": http_version, "method": "POST", "path": "/graphql"}
    await limits({**scope, "headers": [(b"host", b"t")]}, receive, send)
    assert sent[0]["status"] == (413 if refused else 200)
    assert (receives[0] is receive) is not refused
