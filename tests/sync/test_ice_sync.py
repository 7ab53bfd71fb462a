"""`open287g sync` against a fake ICE site (tests/support/fake_ice.py) replaying five real lists in
publication order while it misbehaves: 304s, 503s, a timeout, a truncated xlsx, an HTML
page sent as 200, a renamed column, a list that would drop most agreements, and links
that move to other paths and names. After every pass the database equals what loading
the good files by hand gives, no body is downloaded twice, and /readyz, /metrics and
/v1/quality tell the truth."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.models.enums import SnapshotKind
from open287g.loaders.ice287g.load import PlannedSource, load_sources, plan_sources
from open287g.sync.run import PassResult, run_forever, sync_once
from tests.support.database import database_copy
from tests.support.fake_ice import PAGE_PATH, FakeIce, Resource, fake_ice
from tests.support.fixtures import ICE_DIR
from tests.support.live import server_env

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")

# Five real lists, in publication order (ICE's names; the archive prefixes its fetch time).
A = "20250519T024922_participating_participatingAgencies05162025am.xlsx"
B = "20250519T024922_pending_pendingAgencies05152025am.xlsx"
C = "20250519T151802_participating_participatingAgencies05192025am.xlsx"
D = "20250520T151813_participating_participatingAgencies05192025pm.xlsx"
E = "20250519T151802_pending_pendingAgencies05192025am.xlsx"
ICE = "/doclib/about/offices/ero/287g/"
D_MODIFIED = "Tue, 20 May 2025 15:00:00 GMT"  # D's date when its name carries none


def ice_name(archived: str) -> str:
    return archived.split("_", 2)[2]


def data(archived: str) -> bytes:
    return (ICE_DIR / archived).read_bytes()


def xlsx_link(archived: str) -> tuple[str, str]:
    kind = "Participating" if "_participating_" in archived else "Pending"
    return ICE + ice_name(archived), f"{kind} Agencies (xlsx)"


def edited(archived: str, edit: Any) -> bytes:
    """A real list changed by `edit(sheet)`, saved again."""
    workbook = openpyxl.load_workbook(io.BytesIO(data(archived)))
    edit(workbook.worksheets[0])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rename_moa_column(sheet: Any) -> None:
    for cell in sheet[1]:
        if str(cell.value or "").strip().upper() == "MOA":
            cell.value = "MOA DOCUMENT"


def keep_30_rows(sheet: Any) -> None:
    sheet.delete_rows(32, sheet.max_row)


AGREEMENTS = """
SELECT g.state_code, a.name_key, CAST(g.model_code AS text), CAST(g.status AS text),
       g.signed_on, g.signed_raw, g.moa_url, g.addendum_urls, g.first_seen, g.last_seen,
       g.activated_on
FROM agreements g JOIN agencies a ON a.id = g.agency_id ORDER BY 1, 2, 3
"""
OBSERVATIONS = """
SELECT CAST(s.kind AS text), s.published_on, s.row_count, a.name_key,
       CAST(g.model_code AS text), o.row_number, o.agency_name, o.county, o.signed_on,
       o.moa_url
FROM agreement_observations o JOIN snapshots s ON s.id = o.snapshot_id
JOIN agreements g ON g.id = o.agreement_id JOIN agencies a ON a.id = g.agency_id
ORDER BY 1, 2, 4, 5, 6
"""


async def contents(engine: AsyncEngine) -> tuple[list[Any], list[Any]]:
    async with engine.connect() as conn:
        agreements = list(await conn.execute(text(AGREEMENTS)))
        observations = list(await conn.execute(text(OBSERVATIONS)))
    return agreements, observations


class World:
    """The synced database, a database loaded by hand with the good files, the app."""

    def __init__(
        self, site: FakeIce, synced: AsyncEngine, by_hand: AsyncEngine | None, archive: Path
    ) -> None:
        self.site = site
        self.synced = synced
        self.by_hand = by_hand
        self.settings = Settings(
            ice_page_url=site.page_url,
            sync_archive_dir=archive,
            sync_moas=False,
            http_timeout=0.5,
            sync_stale_after=2,
        )
        self.app = create_app(self.settings, engine=synced)
        self.good: list[PlannedSource] = []

    async def sync(self) -> PassResult:
        return await sync_once(self.synced, self.settings, backoff=0.01)

    async def loaded_by_hand(self, *planned: PlannedSource) -> None:
        assert self.by_hand is not None
        await load_sources(self.by_hand, planned, Settings())
        self.good.extend(planned)

    async def assert_same_as_by_hand(self) -> None:
        assert self.by_hand is not None
        synced, by_hand = await contents(self.synced), await contents(self.by_hand)
        assert synced[0] == by_hand[0]
        assert synced[1] == by_hand[1]
        assert len({row[1] for row in synced[1]}) == len({p.published_on for p in self.good})

    def assert_nothing_downloaded_twice(self) -> None:
        assert max(self.site.sent.values()) == 1, self.site.sent

    async def get(self, path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.get(path)

    async def readyz(self) -> dict[str, Any]:
        response = await self.get("/readyz")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def site() -> AsyncIterator[FakeIce]:
    with fake_ice() as running:
        yield running


@pytest.fixture
async def by_hand(server_url: URL, template_url: URL) -> AsyncIterator[AsyncEngine]:
    """A second database, loaded by hand with the files the sync should have loaded."""
    async with database_copy(server_url, template_url) as engine:
        yield engine


@pytest.fixture
def world(site: FakeIce, engine: AsyncEngine, tmp_path: Path) -> World:
    return World(site, engine, None, tmp_path / "archive")


def planned(archived: str, **options: Any) -> PlannedSource:
    return plan_sources([str(ICE_DIR / archived)], **options)[0]


async def test_sync_keeps_current_and_never_serves_bad_data(
    world: World, by_hand: AsyncEngine
) -> None:
    world.by_hand = by_hand
    site = world.site
    assert (await world.readyz())["freshness"]["status"] == "never"

    # 1. The page names two lists: both are downloaded, kept and loaded.
    for name in (A, B):
        site.resources[ICE + ice_name(name)] = Resource(data(name))
    site.page(xlsx_link(A), xlsx_link(B))
    result = await world.sync()
    assert (result.outcome, result.page, result.downloads) == ("ok", "read", 2), result
    assert sorted(result.loaded) == sorted([ice_name(A), ice_name(B)])
    await world.loaded_by_hand(planned(A), planned(B))
    await world.assert_same_as_by_hand()
    ready = await world.readyz()
    assert ready["status"] == "ok"
    assert ready["freshness"]["status"] == "ok"
    assert ready["freshness"]["last_list_date"] == "2025-05-16"
    archived = sorted(p.name for p in world.settings.sync_archive_dir.rglob("*.xlsx"))
    assert len(archived) == 2

    # 2. Nothing new: the page answers 304, the files are not asked for again.
    result = await world.sync()
    assert (result.outcome, result.page, result.downloads) == ("ok", "not-modified", 0)

    # 3. ICE answers 503 on every try, then 4. too slowly: two failed passes are stale.
    site.resources["/identify-and-arrest/287g"].failures = 3
    result = await world.sync()
    assert (result.outcome, result.page, result.failed_checks) == ("failed", "unreachable", 1)
    ready = await world.readyz()
    assert (ready["status"], ready["freshness"]["status"]) == ("ok", "failing")
    site.resources["/identify-and-arrest/287g"].delay = 1.0
    result = await world.sync()
    assert (result.outcome, result.failed_checks) == ("failed", 2)
    assert "ReadTimeout" in result.errors[0] or "timed out" in result.errors[0]
    ready = await world.readyz()
    assert (ready["status"], ready["freshness"]["status"]) == ("stale", "stale")
    assert ready["freshness"]["last_success"] is not None
    await world.assert_same_as_by_hand()

    # A 503 that clears within the retries is no failure.
    site.resources["/identify-and-arrest/287g"].delay = 0
    site.resources["/identify-and-arrest/287g"].failures = 2
    assert (await world.sync()).outcome == "ok"
    assert (await world.readyz())["status"] == "ok"

    # 5. A new list, truncated in transit: quarantined, the last good data stays.
    c_path = ICE + ice_name(C)
    site.resources[c_path] = Resource(data(C)[: len(data(C)) // 2])
    site.page(xlsx_link(A), xlsx_link(B), xlsx_link(C))
    result = await world.sync()
    assert (result.outcome, result.quarantined) == ("failed", [ice_name(C)])
    await world.assert_same_as_by_hand()
    quarantined = (await world.readyz())["freshness"]["quarantined_files"]
    assert [q["name"] for q in quarantined] == [ice_name(C)]
    assert quarantined[0]["reason"]
    metrics = (await world.get("/metrics")).text
    assert "open287g_sync_quarantined_files 1" in metrics
    assert "open287g_sync_failed_checks 1" in metrics
    quality = (await world.get("/v1/quality")).json()["data"]["quarantined_files"]
    assert [q["name"] for q in quality] == [ice_name(C)]
    # Asked again, the same broken bytes are not downloaded again (304).
    result = await world.sync()
    assert (result.outcome, result.downloads) == ("failed", 0)

    # 6. ICE fixes the file at the same URL: it is downloaded (new ETag) and loaded.
    site.resources[c_path] = Resource(data(C))
    result = await world.sync()
    assert (result.outcome, result.loaded) == ("ok", [ice_name(C)]), result
    await world.loaded_by_hand(planned(C))
    await world.assert_same_as_by_hand()
    ready = await world.readyz()
    assert ready["status"] == "ok"
    assert ready["freshness"]["quarantined_files"] == []  # superseded by C
    assert len((await world.get("/v1/quality")).json()["data"]["quarantined_files"]) == 1

    # 7-9. The next list as an HTML error page sent with 200, then with a renamed column,
    # then cut to 30 rows: each quarantined for its own reason, nothing of it loaded.
    d_path = ICE + ice_name(D)
    site.page(xlsx_link(A), xlsx_link(B), xlsx_link(C), xlsx_link(D))
    reasons = []
    for body, content_type in (
        (b"<!DOCTYPE html><html><body>Access Denied</body></html>", "text/html"),
        (edited(D, rename_moa_column), Resource.content_type),
        (edited(D, keep_30_rows), Resource.content_type),
    ):
        site.resources[d_path] = Resource(body, content_type)
        result = await world.sync()
        assert (result.outcome, result.quarantined) == ("failed", [ice_name(D)]), result
        reasons.append(result.errors[0])
        await world.assert_same_as_by_hand()
    assert "HTML page sent with HTTP 200" in reasons[0]
    assert "columns changed: MOA missing (new: MOA DOCUMENT)" in reasons[1]
    assert "would drop" in reasons[2]
    ready = await world.readyz()
    assert ready["status"] == "stale"
    assert len(ready["freshness"]["quarantined_files"]) == 3

    # 10. The page moves its links: new paths and names, one without a date (its date comes
    # from Last-Modified); a list already loaded appears at a new URL and is recognised.
    moved_a = "/sites/default/files/documents/ero/participatingAgencies05162025am.xlsx"
    moved_d = "/sites/default/files/documents/ero/287g-participating-list.xlsx"
    moved_e = "/files/lists/" + ice_name(E)
    site.resources[moved_a] = Resource(data(A))
    site.resources[moved_d] = Resource(data(D), last_modified=D_MODIFIED)
    site.resources[moved_e] = Resource(data(E))
    site.page((moved_a, "Older list"), (moved_d, "Participating agencies"), (moved_e, "Pending"))
    result = await world.sync()
    assert result.outcome == "ok", result
    assert sorted(result.loaded) == sorted(["287g-participating-list.xlsx", ice_name(E)])
    await world.loaded_by_hand(
        planned(D, kind=SnapshotKind.PARTICIPATING, as_of=dt.date(2025, 5, 20)), planned(E)
    )
    await world.assert_same_as_by_hand()
    async with world.synced.connect() as conn:
        rows = await conn.execute(text("SELECT name, date_source FROM sync_files"))
        sources: dict[str, str | None] = {row[0]: row[1] for row in rows}
        runs = (await conn.execute(text("SELECT count(*) FROM load_runs"))).scalar_one()
    assert sources["287g-participating-list.xlsx"] == "last-modified"
    assert sources[ice_name(E)] == "file-name"
    assert runs == 5  # A at its new URL was not loaded again
    ready = await world.readyz()
    assert (ready["status"], ready["freshness"]["quarantined_files"]) == ("ok", [])
    assert ready["freshness"]["last_list_date"] == "2025-05-20"

    # 11. Quiet again: every request is conditional and answered 304.
    before = site.downloads()
    result = await world.sync()
    assert (result.outcome, result.downloads) == ("ok", 0)
    assert site.downloads() == before
    world.assert_nothing_downloaded_twice()
    # Each distinct file is kept once in the archive, under its sha256.
    assert (
        len(list(world.settings.sync_archive_dir.rglob("*.*"))) == 5 + 1 + 3
    )  # the good five, the truncated C, three bad Ds


async def test_one_sync_at_a_time(world: World) -> None:
    """A pass finds the advisory lock taken (another process syncing) and does nothing."""
    world.site.page()
    async with world.synced.connect() as other:
        assert (await other.execute(text("SELECT pg_try_advisory_lock(287, 23)"))).scalar()
        assert (await world.sync()).outcome == "busy"
        await other.execute(text("SELECT pg_advisory_unlock(287, 23)"))
    result = await world.sync()
    assert (result.outcome, result.errors) == (
        "failed",
        ["ICE's page names no participating/pending .xlsx link"],
    )


async def test_the_command_runs_one_pass(world: World, tmp_path: Path) -> None:
    """`open287g sync --once` in its own process: exit 0 and a one-line summary."""
    world.site.resources[ICE + ice_name(B)] = Resource(data(B))
    world.site.page(xlsx_link(B))
    env = server_env(world.synced.url, OPEN287G_SYNC_ARCHIVE_DIR=str(tmp_path / "cli"))
    command = [sys.executable, "-m", "open287g", "sync", "--once", "--no-moas"]
    command += ["--ice-page", world.site.page_url]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # Loaded, or recognised by its sha256 when an earlier test of the module loaded B.
    assert re.match(r"sync ok: page read, 1 download\(s\), loaded [01], quarantined 0", done.stdout)
    logged = [json.loads(line) for line in done.stderr.splitlines()]  # JSON lines
    assert [e["message"] for e in logged if e["logger"] == "open287g.sync"] == [done.stdout.strip()]


async def test_the_loop_runs_a_pass_every_interval(world: World) -> None:
    """`open287g sync` without --once: passes every interval (here 0.05 s, with jitter)
    until stopped; a failing pass does not end the loop."""
    world.site.page().failures = 1  # the first pass fails (503, then a page with no lists)
    loop = asyncio.create_task(
        run_forever(world.synced, world.settings, every_seconds=0.05, backoff=0.01)
    )
    try:
        for _ in range(400):  # 20 s at most
            if world.site.requests[PAGE_PATH] >= 4:
                break
            await asyncio.sleep(0.05)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    assert world.site.requests[PAGE_PATH] >= 4
    assert (await world.readyz())["freshness"]["failed_checks"] >= 2
