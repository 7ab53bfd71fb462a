"""All 54 real ICE snapshots loaded in order; the results checked against counts the test
computes itself, straight from the raw spreadsheets."""

from __future__ import annotations

import collections
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.loaders.ice287g.load import FileResult, load_sources, plan_sources
from tests.support.fixtures import (
    ICE_DIR,
    ICE_FILES,
    LATEST_PARTICIPATING,
    LATEST_PENDING,
    raw_identities,
)
from tests.support.live import IceTemplate
from tests.support.snapshots import database_url

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")
__all__ = ["database_url"]  # this module's database: a copy of the ICE template


@pytest.fixture(scope="module")
def loaded(ice_template: IceTemplate) -> list[FileResult]:
    """What loading the snapshots did: the run loads them once, into the ICE template this
    module's database copies."""
    return ice_template.results


async def current(engine: AsyncEngine, status: str) -> set[tuple[str, str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT g.state_code, a.name_key, CAST(g.model_code AS text)"
                " FROM agreements g JOIN agencies a ON a.id = g.agency_id"
                " WHERE g.status = CAST(:s AS agreement_status)"
            ),
            {"s": status},
        )
        return {(row[0], row[1], row[2]) for row in rows}


async def test_every_file_loaded_once_in_publication_order(loaded: list[FileResult]) -> None:
    assert len(loaded) == len(ICE_FILES) == 54
    assert all(result.load_run_id is not None for result in loaded)
    dates = [result.planned.published_at for result in loaded]
    assert dates == sorted(dates)


async def test_active_agreements_match_the_latest_list(
    loaded: list[FileResult], engine: AsyncEngine
) -> None:
    expected = raw_identities(LATEST_PARTICIPATING)
    active = await current(engine, "ACTIVE")
    assert active == expected
    per_model = collections.Counter(model for _, _, model in expected)
    per_state = collections.Counter(state for state, _, _ in expected)
    async with engine.connect() as conn:
        by_model: dict[str, int] = dict(
            (await conn.execute(text(
                "SELECT CAST(model_code AS text), count(*) FROM agreements"
                " WHERE status = 'ACTIVE' GROUP BY 1"
            ))).all()
        )  # fmt: skip
        by_state: dict[str, int] = dict(
            (await conn.execute(text(
                "SELECT state_code, count(*) FROM agreements WHERE status = 'ACTIVE' GROUP BY 1"
            ))).all()
        )  # fmt: skip
    assert by_model == dict(per_model)
    assert by_state == dict(per_state)
    assert sum(by_model.values()) == 811


async def test_pending_and_ended_are_exactly_what_the_lists_imply(
    loaded: list[FileResult], engine: AsyncEngine
) -> None:
    participating = raw_identities(LATEST_PARTICIPATING)
    pending = raw_identities(LATEST_PENDING) - participating
    ever = set().union(*(raw_identities(path) for path in ICE_FILES))
    assert await current(engine, "PENDING") == pending
    # Off both latest lists: ended (also by a model switch) or withdrawn for real, or
    # renamed (a successor carries it on).
    gone = set().union(*[await current(engine, s) for s in ("ENDED", "WITHDRAWN", "RENAMED")])
    assert gone == ever - participating - pending
    assert len(ever - participating - pending) > 0


async def test_every_moa_url_is_on_ice_gov(loaded: list[FileResult], engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        urls = (
            (
                await conn.execute(
                    text(
                        "SELECT moa_url FROM agreements WHERE moa_url IS NOT NULL UNION ALL"
                        " SELECT unnest(addendum_urls) FROM agreements"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(urls) > 500
    hosts = {urlsplit(url).hostname for url in urls}
    assert hosts == {"www.ice.gov"}
    assert not [url for url in urls if "safelinks" in url]


async def test_malformed_dates_are_null_with_raw_text_kept(
    loaded: list[FileResult], engine: AsyncEngine
) -> None:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT DISTINCT signed_raw, signed_on FROM agreement_observations"
                    " WHERE signed_raw IN ('05/082025', '7/72025')"
                )
            )
        ).all()
        reported = (
            await conn.execute(
                text("SELECT count(*) FROM load_issues WHERE value IN ('05/082025', '7/72025')")
            )
        ).scalar_one()
    assert {raw for raw, _ in rows} == {"05/082025", "7/72025"}
    assert all(signed_on is None for _, signed_on in rows)
    assert reported == 32


async def test_history_keeps_every_snapshot(loaded: list[FileResult], engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        snapshot_rows: dict[str, int] = dict(
            (await conn.execute(text(
                "SELECT f.name, count(o.agreement_id) FROM snapshots s"
                " JOIN source_files f ON f.id = s.source_file_id"
                " LEFT JOIN agreement_observations o ON o.snapshot_id = s.id GROUP BY f.name"
            ))).all()
        )  # fmt: skip
    assert len(snapshot_rows) == 54
    for path in (LATEST_PARTICIPATING, LATEST_PENDING, ICE_FILES[0]):
        assert snapshot_rows[path.name] == len(raw_identities(path))


async def test_reloading_every_file_changes_nothing(
    loaded: list[FileResult], engine: AsyncEngine
) -> None:
    async def fingerprint() -> list[object]:
        async with engine.connect() as conn:
            found: list[object] = []
            for table in ("load_runs", "agreements", "agencies", "agreement_observations"):
                found.append(
                    tuple((await conn.execute(text(f"SELECT count(*) FROM {table}"))).one())
                )
            found.append((await conn.execute(text("SELECT max(seq) FROM changes"))).scalar_one())
            return found

    before = await fingerprint()
    again = await load_sources(engine, plan_sources([str(ICE_DIR)]), Settings())
    assert all(result.unchanged_file for result in again)
    assert sum(r.counts.inserted + r.counts.updated + r.counts.ended for r in again) == 0
    assert await fingerprint() == before


async def test_implausible_signed_dates_are_reported_not_served(
    loaded: list[FileResult], engine: AsyncEngine
) -> None:
    """Grundy County SO, TN (WSO): ICE's cell holds 5025-07-07 (format mm-dd-yy, so Excel
    shows 07-07-25). Such a date is reported and kept as text, never served as a date."""
    async with engine.connect() as conn:
        grundy = (
            await conn.execute(
                text(
                    "SELECT g.signed_on, g.signed_raw FROM agreements g"
                    " JOIN agencies a ON a.id = g.agency_id WHERE g.state_code = 'TN'"
                    " AND a.name ILIKE 'Grundy County%'"
                    " AND g.model_code = 'WARRANT_SERVICE_OFFICER'"
                )
            )
        ).one()
        outside = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM agreement_observations o"
                    " JOIN snapshots s ON s.id = o.snapshot_id WHERE o.signed_on < '1996-09-30'"
                    " OR o.signed_on > s.published_on + interval '1 year'"
                )
            )
        ).scalar_one()
        flagged = (
            await conn.execute(
                text(
                    "SELECT i.value, count(*) FROM load_issues i WHERE i.column = 'SIGNED'"
                    " AND i.reason LIKE 'implausible date%' GROUP BY i.value"
                )
            )
        ).all()
    assert tuple(grundy) == (None, "5025-07-07")
    assert outside == 0
    by_value: dict[str, int] = {str(value): int(n) for value, n in flagged}
    assert by_value.get("5025-07-07", 0) >= 1
    print(f"implausible signed dates flagged: {by_value}")
