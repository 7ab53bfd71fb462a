"""Change seqs commit in order, so a sync token never skips a change.

Two transactions that record changes (loads of different datasets, or a removal and a
load) run concurrently on two real connections, with the interleaving that used to lose
changes: A allocates its seqs first, B starts after and tries to commit first. A reader
syncs between the commits. Whatever it saw at token T, no change with seq <= T may appear
later — otherwise a mirror resuming from T (and the response cache keyed by the data
version) would never learn of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.db.ingest.provenance import SourceFacts, begin_load, record_changes
from open287g.db.ingest.removal import remove_source_files
from open287g.db.ingest.removed import rows_go_with_their_runs
from open287g.db.models.enums import ChangeOp
from open287g.db.queries.changes import changes_since, data_version

_names = itertools.count()


def _facts(label: str) -> SourceFacts:
    name = f"{label}-{next(_names)}.csv"
    return SourceFacts(
        name=name,
        url=None,
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        size=1,
        fetched_at=dt.datetime.now(dt.UTC),
    )


async def _load(conn: AsyncConnection, dataset: str) -> None:
    """The write phase of a load: its source file and run, then some records."""
    start = await begin_load(
        conn, dataset=dataset, source=_facts(dataset), started_at=dt.datetime.now(dt.UTC)
    )
    await record_changes(conn, start.load_run_id, "official", [1, 2, 3], ChangeOp.UPSERT)


async def _sync(engine: AsyncEngine) -> tuple[int, set[int]]:
    """(token, seqs seen) as a mirror gets them: one snapshot, the version and the feed."""
    async with engine.connect() as conn:
        await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        version = (await data_version(conn)).version
        seen = {c.seq for c in await changes_since(conn, 0, 1_000_000)}
        await conn.rollback()
    assert version == max(seen, default=0)
    return version, seen


async def _blocked_or_done(engine: AsyncEngine, pid: int, task: asyncio.Task[None]) -> None:
    """Wait until B has committed or is waiting on a lock: no sleeping on a guess."""
    async with engine.connect() as probe:
        for _ in range(3000):
            if task.done():
                return
            waiting = await probe.execute(
                text("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = :pid AND NOT granted)"),
                {"pid": pid},
            )
            await probe.rollback()
            if waiting.scalar_one():
                return
            await asyncio.sleep(0.01)
    raise AssertionError("transaction B neither committed nor waited on a lock in 30 s")


async def _committed_removable(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        start = await begin_load(
            conn, dataset="test-removed", source=_facts("gone"), started_at=dt.datetime.now(dt.UTC)
        )
    return start.source_file_id


async def _first_a_load(engine: AsyncEngine, conn: AsyncConnection) -> None:
    await _load(conn, "test-policies")


async def _first_a_removal(engine: AsyncEngine, conn: AsyncConnection) -> None:
    file_id = await _committed_removable(engine)
    await remove_source_files(conn, [file_id], {"test-removed": rows_go_with_their_runs})


FirstWriter = Callable[[AsyncEngine, AsyncConnection], Awaitable[None]]


@pytest.mark.parametrize("first", [_first_a_load, _first_a_removal], ids=["load", "removal"])
async def test_sync_between_out_of_order_commits_misses_nothing(
    engine: AsyncEngine, first: FirstWriter
) -> None:
    pid_b: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def load_b() -> None:
        async with engine.connect() as conn_b:
            pid_b.set_result((await conn_b.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            await conn_b.rollback()
            async with conn_b.begin():
                await _load(conn_b, "test-ice")

    async with engine.connect() as conn_a:
        tx_a = await conn_a.begin()
        await first(engine, conn_a)  # A holds its seqs, uncommitted
        before, _ = await _sync(engine)
        task_b = asyncio.ensure_future(load_b())
        try:
            await _blocked_or_done(engine, await pid_b, task_b)
            token, seen = await _sync(engine)  # the mirror syncs between the two commits
        finally:
            await tx_a.commit()
            await task_b
    after, everything = await _sync(engine)

    late = sorted(s for s in everything - seen if s <= token)
    assert late == [], f"seqs {late} became visible after a reader had token {token}"
    assert after > token >= before
    # The mirror resuming from its token gets both transactions' changes.
    async with engine.connect() as conn:
        resumed = await changes_since(conn, token, 1_000_000)
    assert {c.seq for c in resumed} == {s for s in everything if s > token}
    assert {c.entity for c in resumed} >= {"dataset", "official"}
