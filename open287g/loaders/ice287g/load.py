"""Load ICE 287(g) spreadsheets: order the sources, then one transaction per file."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.ingest.ice287g import (
    SnapshotMeta,
    merge_snapshot,
    remove_lists,
    snapshot_row_count,
)
from open287g.db.ingest.provenance import (
    LoadCounts,
    begin_load,
    count_rejected,
    file_transaction,
    find_load_of,
    finish_load,
    lock_dataset,
)
from open287g.db.ingest.removal import (
    Removed,
    holds_real_files,
    remove_source_files,
    select_files,
)
from open287g.db.models.enums import IssueAction, SnapshotKind
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.counties import place_counties, placement_overrides
from open287g.loaders.ice287g.filenames import parse_file_name, published_at
from open287g.loaders.ice287g.parse import parse_workbook
from open287g.loaders.ice287g.rematch import rematch_counties
from open287g.loaders.sources import SourceDocument, expand_paths, fetch_url, is_url, read_path

DATASET = "ice-287g"
MAX_REJECTED_SHARE = 0.5
"""Above this share of rejected rows the file is not an ICE list we can read: fail it."""


@dataclass(frozen=True)
class PlannedSource:
    source: str
    kind: SnapshotKind
    published_on: dt.date
    published_at: dt.datetime
    archived_at: dt.datetime | None


@dataclass
class FileResult:
    planned: PlannedSource
    load_run_id: int | None
    counts: LoadCounts = field(default_factory=LoadCounts)
    removed_demo: Removed | None = None  # the demo data set this real file replaced

    @property
    def unchanged_file(self) -> bool:
        return self.load_run_id is None


def plan_sources(
    sources: Sequence[str], *, kind: SnapshotKind | None = None, as_of: dt.date | None = None
) -> list[PlannedSource]:
    """Expand folders and put every file in publication order, failing before any load
    when a file's kind or date can be told neither from its name nor from the options."""
    planned: list[PlannedSource] = []
    for source in expand_paths(sources, (".xlsx",)):
        name = source.rstrip("/").rsplit("/", 1)[-1]
        parsed = parse_file_name(name)
        file_kind = kind or parsed.kind
        if file_kind is None:
            raise LoadError(source, "cannot tell participating from pending; pass --kind")
        published_on = as_of or parsed.published_on
        if published_on is None:
            raise LoadError(source, "no publication date in the file name; pass --as-of")
        planned.append(
            PlannedSource(
                source,
                file_kind,
                published_on,
                published_at(published_on, parsed.half),
                parsed.archived_at,
            )
        )
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    planned.sort(key=lambda p: (p.published_at, p.archived_at or epoch, p.source))
    return planned


async def read_source(planned: PlannedSource, settings: Settings) -> SourceDocument:
    if is_url(planned.source):
        return await fetch_url(
            planned.source, max_bytes=settings.max_upload_bytes, http_timeout=settings.http_timeout
        )
    document = await asyncio.to_thread(read_path, planned.source, settings.max_upload_bytes)
    if planned.archived_at is not None:  # the archive's fetch time is the true one
        document = SourceDocument(
            document.name, document.data, document.url, document.path, planned.archived_at
        )
    return document


async def load_one(
    target: AsyncEngine | AsyncConnection,
    planned: PlannedSource,
    document: SourceDocument,
    settings: Settings,
    *,
    is_demo: bool = False,
) -> FileResult:
    """Load one file in one transaction: on any error nothing of it is written.

    `target` is an engine (a transaction per file) or, in tests, a connection already in
    a transaction (a savepoint per file)."""
    started = dt.datetime.now(dt.UTC)
    async with file_transaction(target) as conn:
        await lock_dataset(conn, DATASET)
        removed_demo = await _keep_demo_apart(conn, document.label, is_demo=is_demo)
        earlier_run = await find_load_of(conn, DATASET, document.sha256)
        if earlier_run is not None:
            rows = await snapshot_row_count(conn, earlier_run)
            counts = LoadCounts(rows_read=rows, unchanged=rows)
            return FileResult(planned, None, counts, removed_demo)
        parsed = await asyncio.to_thread(
            parse_workbook,
            document.label,
            document.data,
            planned.kind,
            published_on=planned.published_on,
            max_unzipped_bytes=settings.max_unzipped_bytes,
        )
        rejected = count_rejected(parsed.issues)
        if parsed.rows_read == 0:
            raise LoadError(document.label, "the sheet has no readable data rows")
        if rejected > MAX_REJECTED_SHARE * parsed.rows_read:
            first = next(i for i in parsed.issues if i.action is IssueAction.REJECTED)
            raise LoadError(
                document.label,
                f"{rejected} of {parsed.rows_read} rows rejected; not loading a file this "
                f"damaged (first: row {first.row_number}: {first.reason})",
            )
        start = await begin_load(
            conn,
            dataset=DATASET,
            source=document.facts(),
            started_at=started,
            snapshot_kind=planned.kind,
            snapshot_date=planned.published_on,
            is_demo=is_demo,
        )
        meta = SnapshotMeta(
            planned.kind,
            planned.published_on,
            planned.published_at,
            start.source_file_id,
            start.load_run_id,
        )
        # Counties come from the gazetteer: a misspelled one never becomes a jurisdiction.
        overrides = await placement_overrides(conn)
        counts = await merge_snapshot(conn, meta, place_counties(parsed, overrides))
        await conn.run_sync(rematch_counties, start.load_run_id)
        counts.rows_read = parsed.rows_read
        await finish_load(conn, start.load_run_id, counts, parsed.issues)
        return FileResult(planned, start.load_run_id, counts, removed_demo)


async def _keep_demo_apart(conn: AsyncConnection, label: str, *, is_demo: bool) -> Removed | None:
    """Demo and real lists never share a database: a real file first removes the demo data
    set (in its own transaction, so a failing file leaves the demo in place); a demo file
    is refused where real lists are loaded."""
    if is_demo:
        if await holds_real_files(conn, DATASET):
            raise LoadError(
                label,
                "this database holds real ICE lists; demo data is never mixed with them "
                "(use another DATABASE_URL, or `open287g datasets remove` the real files)",
            )
        return None
    demo = await select_files(conn, demo=True)
    # The demo data set is ICE lists alone (`load ice-287g --demo`).
    return await remove_source_files(conn, demo, {DATASET: remove_lists}) if demo else None


async def load_sources(
    target: AsyncEngine | AsyncConnection,
    planned: Sequence[PlannedSource],
    settings: Settings,
    *,
    is_demo: bool = False,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Load files in order. Reading the next file overlaps with writing the current one."""
    results: list[FileResult] = []
    next_read: asyncio.Task[SourceDocument] | None = None
    for index, item in enumerate(planned):
        document = await (next_read or read_source(item, settings))
        next_read = (
            asyncio.ensure_future(read_source(planned[index + 1], settings))
            if index + 1 < len(planned)
            else None
        )
        try:
            result = await load_one(target, item, document, settings, is_demo=is_demo)
        except BaseException:
            if next_read is not None:
                next_read.cancel()
            raise
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
