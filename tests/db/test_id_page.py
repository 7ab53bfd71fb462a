"""`pagination.id_page` (records, for the HTML pages) runs `id_page_query`'s SQL, the page the
compiled /v1 statement wraps: both walk the same rows with the same cursors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries import jurisdictions, policies
from open287g.db.queries.ids import to_global_id
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from tests.support.environment import SHARED_DATA

POLICIES = SHARED_DATA / "policies" / "brief-named-states.csv"
pytestmark = pytest.mark.skipif(not POLICIES.is_file(), reason=f"{POLICIES} not present")


@pytest.fixture(scope="module")
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    await load_policy_document(engine, read_path(str(POLICIES), 10**6), Settings())
    settings = Settings(response_cache=False, rate_limit_per_second=0)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def rest_walk(http: httpx.AsyncClient, url: str) -> list[tuple[list[str], str | None]]:
    pages: list[tuple[list[str], str | None]] = []
    cursor = ""
    while True:
        response = await http.get(f"{url}{cursor}")
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(([row["id"] for row in body["data"]], body["next_cursor"]))
        if not body["next_cursor"]:
            return pages
        cursor = f"&cursor={body['next_cursor']}"


async def records_walk(engine: AsyncEngine, page_of: Any, type_name: str) -> list[Any]:
    pages: list[tuple[list[str], str | None]] = []
    after = None
    async with engine.connect() as conn:
        while True:
            page = await page_of(conn, after)
            ids = [to_global_id(type_name, record.id) for record in page.items]
            after = page.end_cursor if page.has_next else None
            pages.append((ids, after))
            if after is None:
                return pages


async def test_policy_pages_agree(http: httpx.AsyncClient, engine: AsyncEngine) -> None:
    rest = await rest_walk(http, "/v1/policies?limit=2")
    found = await records_walk(
        engine,
        lambda conn, after: policies.policy_page(conn, policies.PolicyFilter(), 2, after),
        "Policy",
    )
    assert found == rest
    assert len(rest) > 2  # several pages, so cursors were followed


async def test_jurisdiction_pages_agree(http: httpx.AsyncClient, engine: AsyncEngine) -> None:
    filters = jurisdictions.JurisdictionFilter(state=None, kind="STATE", name_contains=None)
    rest = await rest_walk(http, "/v1/jurisdictions?kind=STATE&limit=7")
    found = await records_walk(
        engine,
        lambda conn, after: jurisdictions.jurisdiction_page(conn, filters, 7, after),
        "Jurisdiction",
    )
    assert found == rest
    assert sum(len(ids) for ids, _ in rest) == 51  # the states the schema installs
