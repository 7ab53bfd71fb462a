"""Derived data refresh: what migrations ask the current code to recompute.

Agreement lineage and statuses, placements and county matches are derived from the stored
history by the loaders' rules, which change. A migration that needs them recomputed does
not import those rules (it would mean something else each time they change): it records
a pending refresh by name (`open287g/db/migrations/derived.py`), and `open287g db migrate`
runs Alembic, then every pending refresh with the code of the day, in the order below, in
one transaction that deletes what it performed. Refreshes wait until the database is at
the head revision (the current code reads the current schema). Each is idempotent.

A new refresh: a name and a function here; a migration calls
`request_refresh(name, revision)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from open287g.db.ingest.ice287g import recompute_agreements, render_agreement_rows
from open287g.db.ingest.provenance import lock_changes, lock_dataset, record_changes
from open287g.db.migrate import current_revisions, head_revisions, upgrade
from open287g.db.models.enums import ChangeOp
from open287g.loaders.ice287g.counties import refresh_placements
from open287g.loaders.ice287g.load import DATASET as ICE_DATASET
from open287g.loaders.ice287g.rematch import rematch_counties


async def _counties(conn: AsyncConnection) -> None:
    """Every stored county matched to the gazetteer (migration 0009); changes recorded."""
    await conn.run_sync(rematch_counties)


async def _lineage(conn: AsyncConnection) -> None:
    """Lineage, then every agreement's status and dates from the history (0021)."""
    changed = [row.id for row in await recompute_agreements(conn)]
    await record_changes(conn, None, "agreement", changed, ChangeOp.UPSERT)


async def _rendered_rows(conn: AsyncConnection) -> None:
    """Every agreement's stored REST row (0030)."""
    await render_agreement_rows(conn)


async def _placements(conn: AsyncConnection) -> None:
    """Every stored list row's placement, and each agency's from its newest row (0025)."""
    await record_changes(conn, None, "agency", await refresh_placements(conn), ChangeOp.UPSERT)


Refresh = Callable[[AsyncConnection], Awaitable[None]]

# In the order they run: counties merge before anything is placed in them.
REFRESHES: dict[str, Refresh] = {
    "counties": _counties,
    "lineage": _lineage,
    "placements": _placements,
    "rendered_rows": _rendered_rows,
}


class UnknownRefresh(Exception):
    """A migration asked for a refresh this code does not know."""


async def refresh_derived_data(conn: AsyncConnection) -> list[str]:
    """Perform the pending refreshes (none before the head revision); their names."""
    if await current_revisions(conn) != head_revisions():
        return []
    await lock_dataset(conn, ICE_DATASET)
    pending = set(
        (await conn.execute(text("SELECT name FROM derived_refreshes FOR UPDATE"))).scalars()
    )
    unknown = pending - set(REFRESHES)
    if unknown:
        raise UnknownRefresh(f"no such derived data refresh: {', '.join(sorted(unknown))}")
    done = [name for name in REFRESHES if name in pending]
    if done:
        await lock_changes(conn)
    for name in done:
        await REFRESHES[name](conn)
    await conn.execute(
        text("DELETE FROM derived_refreshes WHERE name = ANY(CAST(:names AS text[]))"),
        {"names": done},
    )
    return done


async def migrate_database(url: URL, revision: str = "head") -> list[str]:
    """`open287g db migrate`: Alembic to `revision`, then the pending refreshes (at head);
    the refreshes performed."""
    await asyncio.to_thread(upgrade, url, revision)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            return await refresh_derived_data(conn)
    finally:
        await engine.dispose()
