"""The /v1 collections of declared entities on the compiler's path (open287g/api/v1/compiled.py,
open287g/db/rows.py), over the 54 real snapshots: an uncached page is ONE SQL statement
(rows, cursor, envelope and data version); a conditional request reads the version first;
the rows say what the tables say (agency names, lineage links and first sightings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.api.v1 import compiled
from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries.ids import from_global_id, to_global_id
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from tests.support.database import LINEAGE_FIRST_SEEN, StatementCounter
from tests.support.environment import SHARED_DATA
from tests.support.fixtures import ICE_DIR
from tests.support.snapshots import database_url

__all__ = ["database_url"]  # this module's database: a copy of the ICE template

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")
COLLECTIONS = ("agreements", "agencies", "jurisdictions", "policies", "program-models")


@pytest.fixture(scope="module")
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    # The policies over the 54 snapshots the module's database holds already.
    policies = read_path(str(SHARED_DATA / "policies" / "brief-named-states.csv"), 10**6)
    await load_policy_document(engine, policies, Settings())
    settings = Settings(response_cache=False, rate_limit_per_second=0)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def get(http: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    response = await http.get(url, headers=headers)
    assert response.status_code in (200, 304), response.text
    return response


@pytest.mark.parametrize("name", COLLECTIONS)
async def test_an_uncached_page_is_one_statement(
    http: httpx.AsyncClient, count_statements: StatementCounter, name: str
) -> None:
    count_statements.statements.clear()
    first = await get(http, f"/v1/{name}?limit=100")
    assert count_statements.count == 1, count_statements.statements
    body = first.json()
    assert list(body) == ["data", "next_cursor", "data_version"]
    assert int(first.headers["x-data-version"]) == body["data_version"]
    assert len(body["data"]) == 4 if name == "program-models" else 0 < len(body["data"]) <= 100
    if body["next_cursor"]:
        count_statements.statements.clear()
        second = await get(http, f"/v1/{name}?limit=100&cursor={body['next_cursor']}")
        assert count_statements.count == 1
        assert second.json()["data"][0]["id"] not in {row["id"] for row in body["data"]}


async def test_the_benchmarked_page_is_one_statement(
    http: httpx.AsyncClient, count_statements: StatementCounter
) -> None:
    """Issue #11's REST target: `/v1/agreements?limit=100`, with filters and ranking too."""
    for url in (
        "/v1/agreements?limit=100",
        "/v1/agreements?limit=100&state=tx&status=ACTIVE",
        "/v1/agreements?limit=100&q=sheriff&sort=relevance",
    ):
        count_statements.statements.clear()
        response = await get(http, url)
        assert count_statements.count == 1, (url, count_statements.statements)
        assert response.json()["data"], url


async def test_a_conditional_request_reads_the_version_first(
    http: httpx.AsyncClient, count_statements: StatementCounter
) -> None:
    etag = (await get(http, "/v1/agencies?limit=5")).headers["etag"]
    count_statements.statements.clear()
    assert (await get(http, "/v1/agencies?limit=5", **{"If-None-Match": etag})).status_code == 304
    assert count_statements.count == 1  # the version only: no page is built
    count_statements.statements.clear()
    other = await get(http, "/v1/agencies?limit=5", **{"If-None-Match": 'W/"0-x"'})
    assert other.status_code == 200
    assert other.headers["etag"] == etag
    assert count_statements.count == 2


async def every(http: httpx.AsyncClient, name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = ""
    while True:
        body = (await get(http, f"/v1/{name}?limit=1000{cursor}")).json()
        rows += body["data"]
        if not body["next_cursor"]:
            return rows
        cursor = f"&cursor={body['next_cursor']}"


def key(global_id: str) -> int:
    return int(from_global_id(global_id)[1])


async def test_agreement_rows_say_what_the_tables_say(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    rows = {key(row["id"]): row for row in await every(http, "agreements")}
    async with engine.connect() as conn:
        names: dict[int, str] = dict(
            (await conn.execute(text("SELECT id, name FROM agencies"))).all()
        )
        links = (
            await conn.execute(
                text("SELECT predecessor_id, successor_id, method, score FROM agreement_links")
            )
        ).all()
        first_seen: dict[int, dt.date] = dict((await conn.execute(text(LINEAGE_FIRST_SEEN))).all())
    assert len(rows) == 874
    assert all(row["agency_name"] == names[key(row["agency_id"])] for row in rows.values())
    assert len(links) > 10
    assert {k: r["lineage_first_seen"] for k, r in rows.items()} == {
        k: v.isoformat() for k, v in first_seen.items()
    }
    linked = {
        (key(r["predecessor_id"]), k, r["predecessor_method"], r["predecessor_score"])
        for k, r in rows.items()
        if r["predecessor_id"]
    }
    assert linked == {tuple(link) for link in links}
    for before, after, method, score in links:
        row = rows[before]
        assert row["successor_id"] == to_global_id("Agreement", after)
        assert (row["successor_method"], row["successor_score"]) == (method, score)
    successors = {after for _, after, *_ in links}
    assert not any(row["predecessor_id"] for k, row in rows.items() if k not in successors)
    # Scores are floats in JSON even when whole (100.0, as Python writes them; not 100).
    scores = [r["predecessor_score"] for r in rows.values() if r["predecessor_score"] is not None]
    assert any(score.is_integer() for score in scores)
    assert all(isinstance(score, float) for score in scores)


async def test_a_connection_the_server_ended_is_a_503(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica or PostgreSQL stopping sends FATAL to idle sessions: the next statement on
    such a pooled connection fails in asyncpg's protocol ("another operation is in
    progress") before the close arrives. That is an outage to retry (503, and the replica
    failover answers again from the primary), not a bug (500)."""

    async def ended(*_: Any) -> Any:
        raise asyncpg.exceptions.InternalClientError(
            "cannot switch to state 11; another operation (2) is in progress"
        )

    monkeypatch.setattr(compiled, "fetch_row", ended)
    response = await http.get("/v1/agencies?limit=3")
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "another operation" not in response.text
