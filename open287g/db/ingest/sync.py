"""What `open287g sync` reads and writes between passes (tables in db/models/sync.py):
the page's validators and last links, each list URL's last answer, each downloaded file's
verdict, and the one-sync-at-a-time lock."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# Session-level advisory lock, two-key form in the project's namespace (287; the change
# sequence uses (287, 1)): held for a whole pass, released when the pass ends or its
# connection drops, so a crashed sync never blocks the next one.
_TRY_LOCK = "SELECT pg_try_advisory_lock(287, 23)"
_UNLOCK = "SELECT pg_advisory_unlock(287, 23)"


async def try_sync_lock(conn: AsyncConnection) -> bool:
    return bool((await conn.execute(text(_TRY_LOCK))).scalar_one())


async def release_sync_lock(conn: AsyncConnection) -> None:
    await conn.execute(text(_UNLOCK))


@dataclass(frozen=True)
class PageState:
    page_url: str | None
    etag: str | None
    last_modified: str | None
    links: list[dict[str, str]]


async def page_state(conn: AsyncConnection) -> PageState:
    row = (
        await conn.execute(text("SELECT page_url, etag, last_modified, links FROM sync_state"))
    ).one_or_none()
    if row is None:
        return PageState(None, None, None, [])
    return PageState(row[0], row[1], row[2], list(row[3] or []))


async def save_check(
    conn: AsyncConnection,
    *,
    at: dt.datetime,
    error: str | None,
    page: PageState | None,
) -> int:
    """Record one pass: a good one resets the failure count, a failed one adds to it.
    `page` (after a 200 from the page) replaces the validators and links. Returns the
    failures in a row."""
    values: dict[str, Any] = {"at": at, "error": error, "ok": error is None}
    page_sql = ""
    if page is not None:
        page_sql = (
            ", page_url = :page_url, etag = :etag, last_modified = :last_modified,"
            " links = CAST(:links AS jsonb)"
        )
        values.update(
            page_url=page.page_url,
            etag=page.etag,
            last_modified=page.last_modified,
            links=json.dumps(page.links),
        )
    await conn.execute(text("INSERT INTO sync_state (id) VALUES (1) ON CONFLICT DO NOTHING"))
    failed = await conn.execute(
        text(
            "UPDATE sync_state SET last_check_at = :at,"
            " last_success_at = CASE WHEN :ok THEN :at ELSE last_success_at END,"
            " failed_checks = CASE WHEN :ok THEN 0 ELSE failed_checks + 1 END,"
            " last_error = :error" + page_sql + " RETURNING failed_checks"
        ),
        values,
    )
    return int(failed.scalar_one())


@dataclass(frozen=True)
class LinkState:
    """What a list URL last answered and what became of those bytes."""

    sha256: str
    etag: str | None
    last_modified: str | None
    status: str
    reason: str | None


async def link_state(conn: AsyncConnection, url: str) -> LinkState | None:
    row = (
        await conn.execute(
            text(
                "SELECT l.sha256, l.etag, l.last_modified, f.status, f.reason"
                " FROM sync_links l JOIN sync_files f ON f.sha256 = l.sha256 WHERE l.url = :url"
            ),
            {"url": url},
        )
    ).one_or_none()
    return None if row is None else LinkState(*row)


async def remember_link(
    conn: AsyncConnection, url: str, sha256: str, etag: str | None, last_modified: str | None
) -> None:
    await conn.execute(
        text(
            "INSERT INTO sync_links (url, sha256, etag, last_modified) VALUES"
            " (:url, :sha, :etag, :lm) ON CONFLICT (url) DO UPDATE SET sha256 = :sha,"
            " etag = :etag, last_modified = :lm, fetched_at = now()"
        ),
        {"url": url, "sha": sha256, "etag": etag, "lm": last_modified},
    )


@dataclass(frozen=True)
class FileVerdict:
    sha256: str
    url: str
    name: str
    kind: str | None
    published_on: dt.date | None
    date_source: str | None
    size: int
    archive_path: str
    columns: list[str] | None
    status: str  # loaded or quarantined
    reason: str | None


async def file_status(conn: AsyncConnection, sha256: str) -> tuple[str, str | None] | None:
    row = (
        await conn.execute(
            text("SELECT status, reason FROM sync_files WHERE sha256 = :sha"), {"sha": sha256}
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def record_file(conn: AsyncConnection, verdict: FileVerdict) -> None:
    await conn.execute(
        text(
            "INSERT INTO sync_files (sha256, url, name, kind, published_on, date_source, bytes,"
            " archive_path, columns, status, reason) VALUES (:sha, :url, :name, :kind,"
            " :published_on, :date_source, :size, :archive_path, :columns, :status, :reason)"
            " ON CONFLICT (sha256) DO NOTHING"
        ),
        {
            "sha": verdict.sha256,
            "url": verdict.url,
            "name": verdict.name,
            "kind": verdict.kind,
            "published_on": verdict.published_on,
            "date_source": verdict.date_source,
            "size": verdict.size,
            "archive_path": verdict.archive_path,
            "columns": verdict.columns,
            "status": verdict.status,
            "reason": verdict.reason,
        },
    )


Identity = tuple[str, str, str]  # state, agency name key, program model: one agreement


@dataclass(frozen=True)
class Baseline:
    """The newest list of a kind in the database: what a new file is checked against."""

    agreements: frozenset[Identity]
    columns: list[str] | None  # its header, when the sync downloaded it


async def baseline(conn: AsyncConnection, kind: str) -> Baseline | None:
    """Columns are compared only when the newest list came through the sync: a list an
    operator loaded by hand (`open287g load ice-287g`) accepts its columns."""
    newest = (
        await conn.execute(
            text(
                "SELECT s.id, sf.columns FROM snapshots s"
                " JOIN source_files f ON f.id = s.source_file_id"
                " LEFT JOIN sync_files sf ON sf.sha256 = f.sha256"
                " WHERE CAST(s.kind AS text) = :kind"
                " ORDER BY s.published_at DESC, f.fetched_at DESC LIMIT 1"
            ),
            {"kind": kind},
        )
    ).one_or_none()
    if newest is None:
        return None
    listed = await conn.execute(
        text(
            "SELECT g.state_code, a.name_key, CAST(g.model_code AS text)"
            " FROM agreement_observations o JOIN agreements g ON g.id = o.agreement_id"
            " JOIN agencies a ON a.id = g.agency_id WHERE o.snapshot_id = :snapshot"
        ),
        {"snapshot": newest[0]},
    )
    return Baseline(frozenset((row[0], row[1], row[2]) for row in listed), newest[1])
