"""The agreement rows' read model (`agreement_rows`, migration 0030): each agreement's /v1
row rendered when data loads, in the load's transaction, and read by the pages of current
data. Over the 54 real snapshots: every row is stored and is the text the compiler builds
now (rendering again writes nothing), a page reads the same bytes from the stored rows as
it builds without them, and a change of what a row shows (an override that links two
agreements) re-renders it in the same transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.ingest.ice287g import RENDER_AGREEMENT_ROWS, RENDERED_SQL_FILE
from open287g.db.rows import render_rows_sql
from open287g.loaders.lineage_overrides import LINEAGE_OVERRIDES
from open287g.loaders.sources import read_path
from tests.support.fixtures import ICE_DIR
from tests.support.snapshots import database_url

__all__ = ["database_url"]  # this module's database: a copy of the ICE template

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")
PAGES = ("/v1/agreements?limit=500", "/v1/agreements?limit=100&state=PA&status=ACTIVE")


def test_the_loads_render_with_the_compilers_statement() -> None:
    """Regenerate with `python -m open287g.db.rows` when the Agreement REST row changes."""
    assert RENDERED_SQL_FILE.read_text() == render_rows_sql("Agreement") + "\n"


async def _stale(conn: AsyncConnection) -> tuple[int, int, int]:
    """(agreements, stored rows, rows a new rendering would write): rolled back."""
    async with conn.begin_nested() as savepoint:
        written = (await conn.exec_driver_sql(RENDER_AGREEMENT_ROWS)).rowcount
        await savepoint.rollback()
    agreements = (await conn.execute(text("SELECT count(*) FROM agreements"))).scalar_one()
    stored = (await conn.execute(text("SELECT count(*) FROM agreement_rows"))).scalar_one()
    return int(agreements), int(stored), int(written)


async def test_every_row_is_stored_as_the_compiler_renders_it(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await _stale(conn) == (874, 874, 0)


@pytest.fixture
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(response_cache=False, rate_limit_per_second=0)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_page_reads_the_same_bytes_stored_or_built(
    engine: AsyncEngine, http: httpx.AsyncClient
) -> None:
    stored = [(await http.get(page)).content for page in PAGES]
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM agreement_rows WHERE id % 3 = 0"))
    try:
        assert [(await http.get(page)).content for page in PAGES] == stored
    finally:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(RENDER_AGREEMENT_ROWS)
    assert [len(orjson.loads(body)["data"]) for body in stored] == [500, 19]


async def test_rows_of_another_rendering_are_built_instead(
    engine: AsyncEngine, http: httpx.AsyncClient
) -> None:
    """A render statement left stale by a change of the row (or rows of another release)
    is never served: the page reads only rows of its own shape."""
    stored = (await http.get(PAGES[0])).content
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE agreement_rows SET shape = 'other', body = '{}'"))
    try:
        assert (await http.get(PAGES[0])).content == stored
    finally:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(RENDER_AGREEMENT_ROWS)


async def test_a_load_renders_what_it_changes(engine: AsyncEngine, tmp_path: Path) -> None:
    """An override linking Ellis County KS to TX changes both rows (their links)."""
    csv = tmp_path / "overrides.csv"
    csv.write_text(
        "action,state,model,predecessor,successor,successor_state,successor_model,note\n"
        "link,KS,Warrant Service Officer Model,Ellis County Sheriffs Office,"
        "Ellis County Sheriff's Office,TX,,the KS application is Ellis County TX's WSO\n",
        encoding="utf-8",
    )
    async with engine.connect() as conn, conn.begin() as transaction:
        before: dict[int, str] = dict(
            (await conn.execute(text("SELECT id, body FROM agreement_rows"))).all()
        )
        await LINEAGE_OVERRIDES.load(conn, read_path(str(csv), 10**6))
        after: dict[int, str] = dict(
            (await conn.execute(text("SELECT id, body FROM agreement_rows"))).all()
        )
        assert await _stale(conn) == (874, 874, 0)
        await transaction.rollback()
    changed = {k for k in before if before[k] != after[k]}
    assert len(changed) == 2
    assert all('"successor_kind" : "STATE"' in after[k] for k in changed) or any(
        '"predecessor_kind" : "STATE"' in after[k] for k in changed
    )
