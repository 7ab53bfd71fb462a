"""Provenance writes shared by every loader: source files, load runs, issues, changes."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g import __version__
from open287g.db.models.enums import ChangeOp, IssueAction, SnapshotKind
from open287g.db.notify import announce


@dataclass(frozen=True)
class IssueRecord:
    row_number: int | None
    column: str | None
    action: IssueAction
    reason: str
    value: str | None
    rows: int = 1


@dataclass
class LoadCounts:
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0
    rejected: int = 0
    repaired: int = 0

    def summary(self) -> str:
        return (
            f"inserted {self.inserted} / updated {self.updated} / unchanged {self.unchanged}"
            f" / ended {self.ended} / rejected {self.rejected}"
        )


@asynccontextmanager
async def file_transaction(
    target: AsyncEngine | AsyncConnection,
) -> AsyncIterator[AsyncConnection]:
    """The unit of atomicity of a load: a transaction on an engine, a savepoint on a
    connection that is already in one (tests roll that outer transaction back)."""
    if isinstance(target, AsyncEngine):
        async with target.begin() as conn:
            yield conn
    else:
        async with target.begin_nested():
            yield target


async def lock_dataset(conn: AsyncConnection, dataset: str) -> None:
    """Serialize loads of one dataset: concurrent loads would race on the merge."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": dataset})


# One key for every transaction that writes the change sequence. Its own namespace (the
# two-key form) so it can never collide with a dataset's `hashtext` key.
CHANGES_LOCK_SQL = "SELECT pg_advisory_xact_lock(287, 1)"


async def lock_changes(conn: AsyncConnection) -> None:
    """Serialize the write phase of every transaction that records changes, until it ends.

    The data version is max(seq) and a mirror resumes from the seq it has seen. A sequence
    hands out numbers in call order, not commit order: without this lock a load holding seq
    100 could commit after one holding seq 101, and a reader between the two commits would
    take 101 as its token and never see 100. Holding one lock from the first seq to commit
    makes seqs commit in order (the primary and every replica replay commits in that order
    too), so a token T never later gains a change with seq <= T. Take it after the dataset
    locks (always in that order, so loads never deadlock) and before the first write; the
    reading and parsing of files happens before it. Re-taking it in one transaction is free."""
    await conn.execute(text(CHANGES_LOCK_SQL))


async def find_load_of(conn: AsyncConnection, dataset: str, sha256: str) -> int | None:
    """The load run that already brought in a file with these exact bytes, if any."""
    return (
        await conn.execute(
            text(
                "SELECT r.id FROM load_runs r JOIN source_files f ON f.id = r.source_file_id "
                "WHERE f.dataset = :dataset AND f.sha256 = :sha ORDER BY r.id LIMIT 1"
            ),
            {"dataset": dataset, "sha": sha256},
        )
    ).scalar_one_or_none()


async def _finish_load_run(conn: AsyncConnection, run_id: int, counts: LoadCounts) -> None:
    await conn.execute(
        text(
            "UPDATE load_runs SET finished_at = clock_timestamp(), rows_read = :rows_read,"
            " inserted = :inserted, updated = :updated, unchanged = :unchanged,"
            " ended = :ended, rejected = :rejected, repaired = :repaired WHERE id = :id"
        ),
        {**counts.__dict__, "id": run_id},
    )


async def insert_issues(conn: AsyncConnection, run_id: int, issues: Sequence[IssueRecord]) -> None:
    if not issues:
        return
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        "load_issues",
        columns=["load_run_id", "row_number", "column", "action", "reason", "value", "rows"],
        records=[
            (run_id, i.row_number, i.column, i.action.value, i.reason, i.value, i.rows)
            for i in issues
        ],
    )


@dataclass(frozen=True)
class LoadStart:
    source_file_id: int
    load_run_id: int


@dataclass(frozen=True)
class SourceFacts:
    """What provenance records about a source file."""

    name: str
    url: str | None  # the URL it came from; None for a local file (its name is enough)
    sha256: str
    size: int
    fetched_at: dt.datetime


async def begin_load(
    conn: AsyncConnection,
    *,
    dataset: str,
    source: SourceFacts,
    started_at: dt.datetime,
    snapshot_kind: SnapshotKind | None = None,
    snapshot_date: dt.date | None = None,
    is_demo: bool = False,
    is_synthetic: bool = False,
) -> LoadStart:
    """Record the source file and open its load run; every loader starts here, which is
    where its write phase (and the change-sequence lock) begins."""
    await lock_changes(conn)
    source_file_id = (
        await conn.execute(
            text(
                "INSERT INTO source_files (dataset, name, url, sha256, bytes, fetched_at,"
                " snapshot_kind, snapshot_date, is_demo, is_synthetic)"
                " VALUES (:dataset, :name, :url, :sha256, :size, :fetched_at,"
                " CAST(:snapshot_kind AS snapshot_kind), :snapshot_date, :is_demo,"
                " :is_synthetic) RETURNING id"
            ),
            {
                "dataset": dataset,
                "name": source.name,
                "url": source.url,
                "sha256": source.sha256,
                "size": source.size,
                "fetched_at": source.fetched_at,
                "snapshot_kind": snapshot_kind.value if snapshot_kind else None,
                "snapshot_date": snapshot_date,
                "is_demo": is_demo,
                "is_synthetic": is_synthetic,
            },
        )
    ).scalar_one()
    return await _open_run(conn, dataset, int(source_file_id), source.name, started_at)


async def begin_reload(
    conn: AsyncConnection, *, dataset: str, source_file_id: int, started_at: dt.datetime
) -> LoadStart:
    """Open a load run over a source file recorded before (a document read again): the
    file's bytes are the same, what is read from them changes."""
    await lock_changes(conn)
    name = (
        await conn.execute(
            text("SELECT name FROM source_files WHERE id = :id"), {"id": source_file_id}
        )
    ).scalar_one()
    return await _open_run(conn, dataset, source_file_id, name, started_at)


async def _open_run(
    conn: AsyncConnection, dataset: str, source_file_id: int, name: str, started_at: dt.datetime
) -> LoadStart:
    run_id = (
        await conn.execute(
            text(
                "INSERT INTO load_runs (dataset, source_file_id, started_at, software_version)"
                " VALUES (:dataset, :source_file_id, :started_at, :version) RETURNING id"
            ),
            {
                "dataset": dataset,
                "source_file_id": source_file_id,
                "started_at": started_at,
                "version": __version__,
            },
        )
    ).scalar_one()
    # The dataset itself is a record of /v1/datasets: mirrors learn of it from the feed.
    await record_changes(
        conn,
        int(run_id),
        "dataset",
        [int(source_file_id)],
        ChangeOp.UPSERT,
        summaries={int(source_file_id): f"loaded {name}"},
    )
    return LoadStart(int(source_file_id), int(run_id))


def count_rejected(issues: Sequence[IssueRecord]) -> int:
    return sum(issue.rows for issue in issues if issue.action is IssueAction.REJECTED)


async def finish_load(
    conn: AsyncConnection, run_id: int, counts: LoadCounts, issues: Sequence[IssueRecord]
) -> None:
    """Store the issues and the final counts (rejected/repaired derived from the issues)."""
    counts.rejected = count_rejected(issues)
    counts.repaired = sum(issue.rows for issue in issues) - counts.rejected
    await insert_issues(conn, run_id, issues)
    await _finish_load_run(conn, run_id, counts)


async def record_changes(
    conn: AsyncConnection,
    run_id: int | None,
    entity: str,
    ids: Iterable[int],
    op: ChangeOp,
    *,
    summaries: Mapping[int, str] | None = None,
) -> int:
    """Append to the change sequence, in id order so a sync client sees a stable order.
    `run_id` is None for changes no load run makes (removing a dataset); `summaries` says
    in words what changed, for the records worth telling people about (the Atom feed)."""
    ordered = sorted(set(ids))
    if ordered:
        await lock_changes(conn)  # callers take it before their first write; this is a floor
        said = [(summaries or {}).get(i) for i in ordered]
        await conn.execute(
            text(
                "INSERT INTO changes (entity, entity_id, op, load_run_id, summary)"
                " SELECT :entity, u.id, CAST(:op AS change_op), :run, u.summary"
                " FROM unnest(CAST(:ids AS bigint[]), CAST(:said AS text[])) AS u(id, summary)"
                " ORDER BY u.id"
            ),
            {"entity": entity, "op": op.value, "run": run_id, "ids": ordered, "said": said},
        )
        # Every API process learns of the new data version the moment this commits.
        await announce(conn)
    return len(ordered)


async def record_updated(
    conn: AsyncConnection, run_id: int, counts: LoadCounts, entity: str, ids: Sequence[int]
) -> LoadCounts:
    """`ids` of `entity` were rewritten by the load (a rematch or recompute): they count as
    updated and enter the change sequence. The counts, for the merge to return."""
    counts.updated = len(ids)
    await record_changes(conn, run_id, entity, ids, ChangeOp.UPSERT)
    return counts
