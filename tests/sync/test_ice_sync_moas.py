"""`open287g sync` reads the MOAs of the agreements a new list brings, through the MOA
loader, from the same fake ICE site (tests/support/fake_ice.py): two real MOA PDFs, each
downloaded once, stored and linked to its agreement; a pass with no new list fetches no
MOA."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.sync.run import sync_once
from tests.support.database import database_copy
from tests.support.environment import SHARED_DATA
from tests.support.fake_ice import Resource, fake_ice
from tests.support.fixtures import FREEBORN, JUPITER, PARTICIPATING_HEADER, Link, ice_xlsx

MOA_DIR = SHARED_DATA / "moa"
pytestmark = pytest.mark.skipif(not MOA_DIR.is_dir(), reason=f"{MOA_DIR} not present")


@pytest.fixture
async def fresh(server_url: URL, template_url: URL) -> AsyncIterator[AsyncEngine]:
    """An empty database: the module's other lists would send the MOA step to ice.gov."""
    async with database_copy(server_url, template_url) as engine:
        yield engine


async def test_a_new_list_brings_its_moas(
    fresh: AsyncEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_ice() as site:
        # The list links ice.gov (the loader keeps no other MOA link); the fake site answers
        # for it as the HTTP proxy, and the sync reaches the site itself directly.
        monkeypatch.setenv("HTTP_PROXY", site.base)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        moa = "http://www.ice.gov/doclib/287gMOA/"
        rows = [
            ("FLORIDA", "Jupiter Police Department", "Municipality", "Palm Beach",
             "Task Force Model", "03/20/2025", Link("link", moa + JUPITER), None),
            ("MINNESOTA", "Freeborn County Sheriff's Office", "County", "Freeborn",
             "Warrant Service Officer", "03/26/2025", Link("link", moa + FREEBORN), None),
        ]  # fmt: skip
        site.resources["/287g/participatingAgencies03282025am.xlsx"] = Resource(
            ice_xlsx(rows, PARTICIPATING_HEADER)
        )
        for name in (JUPITER, FREEBORN):
            pdf = (MOA_DIR / name).read_bytes()
            site.resources["/doclib/287gMOA/" + name] = Resource(pdf, "application/pdf")
        site.page(("/287g/participatingAgencies03282025am.xlsx", "Participating"))
        settings = Settings(
            ice_page_url=site.page_url, sync_archive_dir=tmp_path, sync_stale_after=2
        )
        first = await sync_once(fresh, settings, backoff=0.01)
        assert (first.outcome, len(first.loaded)) == ("ok", 1), first
        assert str(first.moas).startswith("inserted 2 /"), first.moas
        again = await sync_once(fresh, settings, backoff=0.01)
        assert (again.outcome, again.page, again.moas) == ("ok", "not-modified", None)
        # A document read by an older extractor is read again on the next pass, though no
        # list changed (the same holds for scans OCR could not read, once it can: #20).
        async with fresh.begin() as conn:
            await conn.execute(
                text("UPDATE documents SET extractor_version = 0 WHERE file_name = :f"),
                {"f": JUPITER},
            )
        reread = await sync_once(fresh, settings, backoff=0.01)
        assert (reread.outcome, reread.page) == ("ok", "not-modified"), reread
        assert "read again 1" in str(reread.moas), reread.moas
        settled = await sync_once(fresh, settings, backoff=0.01)
        assert settled.moas is None, settled.moas  # read by today's extractor: left alone
        moa_downloads = {path: n for (path, _), n in site.sent.items() if path.endswith(".pdf")}
    assert moa_downloads == {"/doclib/287gMOA/" + JUPITER: 2, "/doclib/287gMOA/" + FREEBORN: 1}
    async with fresh.connect() as conn:
        linked = await conn.execute(
            text(
                "SELECT a.name, d.file_name FROM document_agreements l"
                " JOIN documents d ON d.id = l.document_id"
                " JOIN agreements g ON g.id = l.agreement_id"
                " JOIN agencies a ON a.id = g.agency_id WHERE l.is_current ORDER BY 1"
            )
        )
        assert [tuple(row) for row in linked] == [
            ("Freeborn County Sheriff's Office", FREEBORN),
            ("Jupiter Police Department", JUPITER),
        ]
