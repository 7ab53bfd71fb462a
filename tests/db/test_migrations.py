"""The migrations and the models describe the same schema, and migrate down and up."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.db import migrate
from open287g.db.models import Base
from open287g.db.reference_data import PROGRAM_MODELS, STATES
from open287g.loaders.derived import migrate_database
from tests.support.database import create_database_copy, drop_database


def _diff(sync_conn: Connection) -> list[Any]:
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(database_url: URL) -> None:
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    await engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


async def test_reference_data_is_installed(database_url: URL) -> None:
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.connect() as conn:
        states = (
            await conn.execute(
                text("SELECT state_code, fips FROM jurisdictions WHERE kind = 'STATE'")
            )
        ).all()
        models = (await conn.execute(text("SELECT code FROM program_models"))).scalars().all()
    await engine.dispose()
    assert len(states) == 51 == len(STATES)
    assert ("TX", "48") in {tuple(row) for row in states}
    assert sorted(models) == sorted(model.code for model in PROGRAM_MODELS)


async def test_migrate_down_to_base_and_up_again(server_url: URL, template_url: URL) -> None:
    url = await create_database_copy(server_url, template_url)
    try:
        migrate.downgrade(url, "base")
        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            tables = await conn.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            types = await conn.scalars(text("SELECT typname FROM pg_type WHERE typtype = 'e'"))
            assert set(tables) <= {"alembic_version"}
            assert types.all() == []
            assert await migrate.current_revisions(conn) == set()
        migrate.upgrade(url)  # Alembic alone: the refreshes the migrations asked for wait
        pending = "SELECT name, requested_by FROM derived_refreshes ORDER BY name"
        async with engine.connect() as conn:
            assert await migrate.current_revisions(conn) == migrate.head_revisions()
            asked = [tuple(r) for r in await conn.execute(text(pending))]
        assert asked == [
            ("counties", "0009"),
            ("lineage", "0021"),
            ("placements", "0025"),
            ("rendered_rows", "0030"),
        ]
        assert await migrate_database(url) == [
            "counties",
            "lineage",
            "placements",
            "rendered_rows",
        ]
        async with engine.connect() as conn:
            assert (await conn.execute(text(pending))).all() == []
        await engine.dispose()
    finally:
        await drop_database(server_url, url)


async def test_placements_are_filled_in_as_the_loads_stored_them(
    server_url: URL, template_url: URL
) -> None:
    """Migrations 0021 and 0025 on a database loaded before them: going back to 0020 drops
    the links' kinds and the placements; `open287g db migrate` (Alembic, then the lineage
    and placements refreshes they ask for) gives back every link, status and placement as
    the loads had stored them (the loader's rules over the cells each row kept), and
    re-emits every agency."""
    from open287g.config import Settings
    from open287g.loaders.ice287g.load import load_sources, plan_sources
    from tests.support.fixtures import ICE_FILES

    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    placed = (
        "SELECT 'agency', id, placement_method, placement_evidence, placement_conflict"
        " FROM agencies UNION ALL SELECT 'row', snapshot_id * 100000 + agreement_id,"
        " placement_method, placement_evidence, placement_conflict FROM agreement_observations"
        " UNION ALL SELECT 'link', predecessor_id, CAST(successor_id AS text), kind,"
        " CAST(gap_days AS text) FROM agreement_links UNION ALL SELECT 'agreement', id,"
        " CAST(status AS text), CAST(left_on AS text), NULL FROM agreements"
    )
    try:
        await load_sources(engine, plan_sources([str(p) for p in ICE_FILES[:6]]), Settings())
        async with engine.connect() as conn:
            loaded = {(r[0], r[1]): tuple(r[2:]) for r in await conn.execute(text(placed))}
            agencies = (await conn.execute(text("SELECT count(*) FROM agencies"))).scalar_one()
            before = (await conn.execute(text("SELECT max(seq) FROM changes"))).scalar_one()
        migrate.downgrade(url, "0020")
        refreshed = await migrate_database(url)
        async with engine.connect() as conn:
            again = {(r[0], r[1]): tuple(r[2:]) for r in await conn.execute(text(placed))}
            emitted = (
                await conn.execute(
                    text(
                        "SELECT count(DISTINCT entity_id) FROM changes"
                        " WHERE entity = 'agency' AND seq > :s"
                    ),
                    {"s": before},
                )
            ).scalar_one()
    finally:
        await engine.dispose()
        await drop_database(server_url, url)
    assert agencies > 500
    assert None not in {v[0] for k, v in loaded.items() if k[0] in ("agency", "row")}
    assert len([k for k in loaded if k[0] == "link"]) >= 2
    assert refreshed == ["lineage", "placements", "rendered_rows"]
    assert again == loaded
    assert emitted == agencies
