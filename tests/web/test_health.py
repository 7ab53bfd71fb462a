"""Liveness and readiness through the real ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from open287g.app import create_app
from open287g.db import migrate
from tests.support.database import create_database_copy, drop_database


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_database_is_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["schema"] == "head"


async def test_not_ready_when_database_is_gone(server_url: URL, template_url: URL) -> None:
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url)
    app = create_app(engine=engine)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        assert (await http.get("/readyz")).status_code == 200
        await engine.dispose()
        await drop_database(server_url, url)
        response = await http.get("/readyz")
    await engine.dispose()
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_not_ready_when_schema_is_behind(server_url: URL, template_url: URL) -> None:
    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url)
    try:
        migrate.downgrade(url, "base")
        app = create_app(engine=engine)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["schema"] == "behind"
        assert "open287g db migrate" in response.json()["hint"]
    finally:
        await engine.dispose()
        await drop_database(server_url, url)


async def test_unknown_path_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["detail"] == "No resource at /no/such/thing."
