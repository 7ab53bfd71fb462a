"""Issue #22: the change feed carries facilities (`detainer_facility` entries with their
/v1/facilities record), so a mirror fed only by the feed equals a fresh export after a
release, after a later release that replaces some months (facilities it does not name
lose detainers: their totals change), and after that release is removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.ingest.removal import remove_source_files
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.registry import REMOVALS
from tests.support.fixtures import (
    MAKE_DETAINERS,
    load_release_with_sheriffs,
    make_detainers,
)

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")


class Mirror:
    """The facilities a portal keeps, fed only by /v1/changes."""

    def __init__(self) -> None:
        self.rows: dict[str, Any] = {}
        self.token = 0

    async def sync(self, http: httpx.AsyncClient) -> None:
        while True:
            answer = await http.get("/v1/changes", params={"since": self.token, "limit": 1000})
            body = answer.json()
            for change in body["data"]:
                if change["entity"] != "detainer_facility":
                    continue
                if change["op"] == "DELETE":
                    self.rows.pop(change["id"], None)
                elif change["record"] is not None:
                    self.rows[change["id"]] = change["record"]
            self.token = body["next_since"]
            if not body["has_more"]:
                return


async def export(http: httpx.AsyncClient) -> dict[str, Any]:
    answer = await http.get("/v1/facilities", params={"format": "ndjson"})
    return {row["id"]: row for row in map(orjson.loads, answer.text.splitlines())}


@pytest.fixture(scope="module")
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(rate_limit_per_second=0, response_cache=False)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_mirror_of_facilities_follows_releases_and_a_removal(
    engine: AsyncEngine, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    first = make_detainers(tmp_path / "first.csv", rows=3000, fmt="csv", seed=5)
    await load_release_with_sheriffs(engine, first)
    mirror = Mirror()
    await mirror.sync(http)
    loaded = await export(http)
    assert len(loaded) == 64
    assert mirror.rows == loaded
    # A later release of one month naming one jail: every other jail loses that month.
    later = tmp_path / "later.csv"
    later.write_text(
        "detainer_prepare_date,facility_state,detention_facility,detention_facility_code,"
        "facility_city,detainer_lift_reason,unique_id\n"
        + "".join(
            f"2025-01-0{i},TEXAS,HARRIS COUNTY JAIL,HARRITX,HOUSTON,,u{i}\n" for i in range(1, 4)
        )
    )
    await load_detainer_source(engine, str(later), Settings(), is_synthetic=True)
    await mirror.sync(http)
    replaced = await export(http)
    changed = [i for i, row in replaced.items() if row["issued"] != loaded[i]["issued"]]
    assert len(changed) > 30, "the month's other jails lost their detainers"
    assert mirror.rows == replaced
    # Removing the later release: HARRITX keeps its other months, the totals change again.
    async with engine.begin() as conn:
        file_id = await conn.scalar(text("SELECT id FROM source_files WHERE name = 'later.csv'"))
        await remove_source_files(conn, [file_id], REMOVALS)
    await mirror.sync(http)
    removed = await export(http)
    assert removed != replaced
    assert mirror.rows == removed
