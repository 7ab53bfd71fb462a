"""A mirror built only from `/v1/changes` (records and tombstones) equals every export,
record for record, on the real server over the 54 real snapshots; and it stays equal
after more data is loaded and after a dataset is removed again (incremental syncs from
the previous token)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.config import Settings
from open287g.db.ingest.removal import remove_source_files
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.registry import REMOVALS
from tests.support.fixtures import HARRIS_SHERIFF, ICE_DIR, ice_xlsx, write
from tests.support.live import LiveServer

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")

COLLECTIONS = ("agreements", "agencies", "jurisdictions", "policies", "program-models", "datasets")
ENTITIES = {
    "agreement": "agreements",
    "agency": "agencies",
    "jurisdiction": "jurisdictions",
    "policy": "policies",
    "program_model": "program-models",
    "dataset": "datasets",
}
# Which columns of which collection refer to which collection's ids.
REFERENCES = (
    ("agreements", "agency_id", "agencies"),
    ("agencies", "jurisdiction_id", "jurisdictions"),
    ("jurisdictions", "parent_id", "jurisdictions"),
    ("policies", "jurisdiction_id", "jurisdictions"),
)
Mirror = dict[str, dict[str, Any]]


class FeedMirror:
    """What a portal keeps: one table per collection, fed only by the change feed."""

    def __init__(self) -> None:
        self.tables: dict[str, Mirror] = {name: {} for name in COLLECTIONS}
        self.token = 0
        self.tombstones = 0

    async def sync(self, http: httpx.AsyncClient) -> None:
        while True:
            body = (
                await http.get("/v1/changes", params={"since": self.token, "limit": 1000})
            ).json()
            for change in body["data"]:
                table = self.tables.get(ENTITIES.get(change["entity"], ""))
                if table is None:
                    continue  # entities with no collection (facilities, officials)
                if change["op"] == "DELETE":
                    self.tombstones += 1
                    table.pop(change["id"], None)
                else:
                    assert change["record"] is not None or change["id"] not in table
                    if change["record"] is not None:
                        table[change["id"]] = change["record"]
            self.token = body["next_since"]
            if not body["has_more"]:
                return


async def exports(http: httpx.AsyncClient) -> dict[str, Mirror]:
    found: dict[str, Mirror] = {}
    for name in COLLECTIONS:
        response = await http.get(f"/v1/{name}", params={"format": "ndjson"})
        assert response.status_code == 200, response.text
        found[name] = {row["id"]: row for row in map(orjson.loads, response.text.splitlines())}
    return found


def assert_equal(mirror: FeedMirror, export: dict[str, Mirror]) -> dict[str, int]:
    for name in COLLECTIONS:
        missing = export[name].keys() - mirror.tables[name].keys()
        extra = mirror.tables[name].keys() - export[name].keys()
        assert not missing, f"{name}: {len(missing)} records missing from the mirror"
        assert not extra, f"{name}: {len(extra)} records in the mirror, not in the export"
        differing = [i for i, row in export[name].items() if mirror.tables[name][i] != row]
        assert not differing, f"{name}: {len(differing)} records differ, e.g. {differing[:1]}"
    for source, column, target in REFERENCES:
        dangling = {
            row[column]
            for row in mirror.tables[source].values()
            if row[column] is not None and row[column] not in mirror.tables[target]
        }
        assert not dangling, f"{source}.{column}: {len(dangling)} dangling references"
    return {name: len(mirror.tables[name]) for name in COLLECTIONS}


@pytest.fixture(scope="module")
async def http(live_server: LiveServer) -> Any:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def mirror() -> FeedMirror:
    return FeedMirror()


async def test_a_mirror_from_the_feed_equals_every_export(
    http: httpx.AsyncClient, mirror: FeedMirror
) -> None:
    await mirror.sync(http)
    counts = assert_equal(mirror, await exports(http))
    print(f"mirror == export from since=0: {counts}")
    assert counts["jurisdictions"] >= 51 + 600  # the 51 states and the counties and cities
    assert counts["agreements"] == 874
    assert counts["program-models"] == 4
    states = [j for j in mirror.tables["jurisdictions"].values() if j["kind"] == "STATE"]
    assert len(states) == 51


def later_snapshot(tmp_path: Path) -> Path:
    """A participating list published after every real one: one agency ICE listed (all
    others end) and one invented agency in a place no list named (a new jurisdiction;
    every county exists already, migration 0015)."""
    rows = [
        HARRIS_SHERIFF,
        ("TEXAS", "Zzyzx Testcase Police Department", "Municipality", "Harris County",
         "Jail Enforcement Model", dt.datetime(2025, 7, 30), "link pending"),
    ]  # fmt: skip
    return write(tmp_path, "participatingAgencies08012025am.xlsx", ice_xlsx(rows))


async def test_incremental_syncs_follow_a_load_and_a_removal(
    http: httpx.AsyncClient,
    mirror: FeedMirror,
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    before = await exports(http)
    if mirror.token == 0:
        await mirror.sync(http)
    engine = create_async_engine(live_server.database_url, poolclass=NullPool)
    try:
        [result] = await load_sources(
            engine, plan_sources([str(later_snapshot(tmp_path))]), Settings()
        )
        assert result.counts.ended > 700
        assert result.counts.inserted == 2
        await mirror.sync(http)
        loaded = await exports(http)
        counts = assert_equal(mirror, loaded)
        print(f"mirror == export after one more snapshot: {counts}")
        assert sum(r["status"] == "ENDED" for r in loaded["agreements"].values()) > 700

        async with engine.begin() as conn:
            file_id = (
                await conn.execute(
                    text("SELECT source_file_id FROM load_runs WHERE id = :r"),
                    {"r": result.load_run_id},
                )
            ).scalar_one()
            removed = await remove_source_files(conn, [file_id], REMOVALS)
        assert removed.deleted["agreement"] == 2
        assert removed.deleted["jurisdiction"] >= 1
        assert removed.updated["agreement"] > 700  # ended by the file, active again
        tombstones = mirror.tombstones
        await mirror.sync(http)
        mirrored = sum(n for entity, n in removed.deleted.items() if entity in ENTITIES)
        assert mirror.tombstones - tombstones == mirrored
        after = await exports(http)
        counts = assert_equal(mirror, after)
        print(f"mirror == export after removing it again: {counts}")
    finally:
        await engine.dispose()
    # Removing the file restores exactly what was served before it was loaded.
    assert after == before
