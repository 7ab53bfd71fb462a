"""One sync pass, and the loop that runs one every interval.

A pass: take the one-sync lock, read ICE's page conditionally, download each list link
whose URL is new or whose server says it changed, keep every new file in the archive by
sha256, inspect it, load the good ones in publication order (the ICE loader, one
transaction each) and quarantine the rest, then the MOAs of agreements that have none
and, on every pass, the stored documents whose reading may come out better now.
The database keeps serving the last good lists whatever ICE sends; the pass records its
outcome (sync_state) for /readyz, /metrics and /v1/quality.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.db.ingest.sync import (
    FileVerdict,
    PageState,
    baseline,
    file_status,
    link_state,
    page_state,
    record_file,
    release_sync_lock,
    remember_link,
    save_check,
    try_sync_lock,
)
from open287g.db.models.enums import SnapshotKind
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.load import PlannedSource, load_one
from open287g.loaders.sources import USER_AGENT, SourceDocument
from open287g.sync.fetch import FetchError, fetch
from open287g.sync.inspect import Candidate, compare, inspect
from open287g.sync.links import ListLink, find_list_links

logger = logging.getLogger("open287g.sync")

MAX_PAGE_BYTES = 5 * 1024 * 1024
DEADLINE_TIMEOUTS = 4  # a whole request may take this many OPEN287G_HTTP_TIMEOUTs
JITTER = 0.1  # each interval is `every` ± 10%, so many mirrors do not hit ICE in step


@dataclass
class PassResult:
    outcome: str  # ok, failed, busy (another sync holds the lock)
    page: str = ""  # read, not-modified, unreachable
    loaded: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    downloads: int = 0
    errors: list[str] = field(default_factory=list)
    failed_checks: int = 0
    data_version: int | None = None
    moas: str | None = None

    def summary(self) -> str:
        if self.outcome == "busy":
            return "another sync is running; skipped"
        parts = [
            f"sync {self.outcome}: page {self.page}",
            f"{self.downloads} download(s)",
            f"loaded {len(self.loaded)}",
            f"quarantined {len(self.quarantined)}",
        ]
        if self.data_version is not None:
            parts.append(f"data version {self.data_version}")
        if self.moas:
            parts.append(f"moas: {self.moas}")
        if self.errors:
            parts.append("problems: " + "; ".join(self.errors))
        return ", ".join(parts)


async def sync_once(engine: AsyncEngine, settings: Settings, *, backoff: float = 1.0) -> PassResult:
    """One pass under the advisory lock; `busy` when another process holds it."""
    async with engine.connect() as lock_conn:
        if not await try_sync_lock(lock_conn):
            await lock_conn.rollback()
            return PassResult("busy")
        await lock_conn.commit()  # the session lock outlives this transaction
        try:
            return await _pass(engine, settings, backoff)
        finally:
            await release_sync_lock(lock_conn)
            await lock_conn.commit()


async def _pass(engine: AsyncEngine, settings: Settings, backoff: float) -> PassResult:
    started = dt.datetime.now(dt.UTC)
    result = PassResult("ok")
    async with engine.connect() as conn:
        state = await page_state(conn)
    same_page = state.page_url == settings.ice_page_url
    async with httpx.AsyncClient(
        timeout=settings.http_timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    ) as http:
        try:
            page = await fetch(
                http,
                settings.ice_page_url,
                etag=state.etag if same_page else None,
                last_modified=state.last_modified if same_page else None,
                max_bytes=MAX_PAGE_BYTES,
                deadline=settings.http_timeout * DEADLINE_TIMEOUTS,
                backoff=backoff,
            )
        except FetchError as exc:
            result.page = "unreachable"
            return await _finish(engine, result, started, [f"ICE's page: {exc}"], None)
        new_page: PageState | None = None
        if page.not_modified:
            result.page = "not-modified"
            links = [ListLink(**link) for link in state.links]
        else:
            result.page = "read"
            links = find_list_links(page.body.decode("utf-8", "replace"), page.url)
            if not links:
                problem = "ICE's page names no participating/pending .xlsx link"
                return await _finish(engine, result, started, [problem], None)
            new_page = PageState(
                settings.ice_page_url,
                page.etag,
                page.last_modified,
                [link.as_json() for link in links],
            )
        problems: list[str] = []
        candidates = await _download(engine, http, links, settings, backoff, result, problems)
    for candidate in sorted(candidates, key=lambda c: (c.published_at, c.link.url)):
        await _load(engine, candidate, candidates, settings, result, problems)
    if settings.sync_moas:
        result.moas = await _load_moas(engine, settings, lists_loaded=bool(result.loaded))
    return await _finish(engine, result, started, problems, new_page)


async def _download(
    engine: AsyncEngine,
    http: httpx.AsyncClient,
    links: list[ListLink],
    settings: Settings,
    backoff: float,
    result: PassResult,
    problems: list[str],
) -> list[Candidate]:
    """The files to load this pass: each URL asked conditionally, each new body kept in
    the archive; bytes seen before (a moved link, a re-issued file) are not loaded again."""
    candidates: list[Candidate] = []
    for link in links:
        async with engine.connect() as conn:
            known = await link_state(conn, link.url)
        no_validators = known is not None and not (known.etag or known.last_modified)
        if no_validators and known is not None and known.status == "loaded":
            continue  # nothing to ask the server with, and these bytes are in
        try:
            fetched = await fetch(
                http,
                link.url,
                etag=known.etag if known else None,
                last_modified=known.last_modified if known else None,
                max_bytes=settings.max_upload_bytes,
                deadline=settings.http_timeout * DEADLINE_TIMEOUTS,
                backoff=backoff,
            )
        except FetchError as exc:
            problems.append(str(exc))
            continue
        if fetched.not_modified:
            if known is not None and known.status == "quarantined":
                problems.append(f"{link.url}: still quarantined: {known.reason}")
            continue
        result.downloads += 1
        sha256 = hashlib.sha256(fetched.body).hexdigest()
        async with engine.begin() as conn:
            seen = await file_status(conn, sha256)
            if seen is None and any(c.sha256 == sha256 for c in candidates):
                seen = ("loaded", None)  # the same bytes at two links this pass: load once
            if seen is not None:
                await remember_link(conn, link.url, sha256, fetched.etag, fetched.last_modified)
        if seen is not None:
            if seen[0] == "quarantined":
                problems.append(f"{link.url}: quarantined before: {seen[1]}")
            continue
        found = await asyncio.to_thread(inspect, link, fetched, settings.max_unzipped_bytes)
        await asyncio.to_thread(_archive, settings.sync_archive_dir, found)
        candidates.append(found)
    return candidates


async def _load(
    engine: AsyncEngine,
    found: Candidate,
    candidates: list[Candidate],
    settings: Settings,
    result: PassResult,
    problems: list[str],
) -> None:
    if found.problem is None:
        other = next(k for k in SnapshotKind if k is not found.kind)
        async with engine.connect() as conn:
            base = await baseline(conn, found.kind.value)
            other_base = await baseline(conn, other.value)
        # Where a dropped agreement may have gone: the other list, in the database or
        # arriving in this same pass.
        elsewhere = other_base.agreements if other_base else frozenset()
        for c in candidates:
            if c.kind is other and c.problem is None:
                elsewhere |= c.agreements
        found.problem = compare(found, base, elsewhere, settings.sync_max_drop_share)
    if found.problem is None:
        assert found.published_on is not None
        planned = PlannedSource(
            found.link.url, found.kind, found.published_on, found.published_at, None
        )
        document = SourceDocument(found.name, found.fetched.body, url=found.fetched.url)
        try:
            await load_one(engine, planned, document, settings)
        except LoadError as exc:
            found.problem = exc.message
    status = "loaded" if found.problem is None else "quarantined"
    verdict = FileVerdict(
        found.sha256,
        found.link.url,
        found.name,
        found.link.kind,
        found.published_on,
        found.date_source,
        len(found.fetched.body),
        str(_archive_path(settings.sync_archive_dir, found)),
        found.columns,
        status,
        found.problem,
    )
    async with engine.begin() as conn:
        await record_file(conn, verdict)
        f = found.fetched
        await remember_link(conn, found.link.url, found.sha256, f.etag, f.last_modified)
    if found.problem is None:
        result.loaded.append(found.name)
        logger.info(
            "loaded %s (%s, published %s, date from %s)",
            found.name,
            found.kind.value.lower(),
            found.published_on,
            found.date_source,
        )
    else:
        result.quarantined.append(found.name)
        problems.append(f"{found.link.url}: quarantined: {found.problem}")
        logger.warning(
            "quarantined %s (sha256 %s): %s", found.link.url, found.sha256, found.problem
        )


def _archive_path(root: Path, found: Candidate) -> Path:
    suffix = Path(found.name).suffix.lower() or ".bin"
    return root / found.sha256[:2] / f"{found.sha256}{suffix}"


def _archive(root: Path, found: Candidate) -> None:
    """Keep the exact bytes before anything reads them into the database (written to a
    temporary name, then renamed: a crash never leaves half a file under its sha256)."""
    path = _archive_path(root, found)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + f".{os.getpid()}.part")
    partial.write_bytes(found.fetched.body)
    partial.replace(path)


async def _load_moas(engine: AsyncEngine, settings: Settings, *, lists_loaded: bool) -> str | None:
    """Through the MOA loader: after a pass that loaded a list, the MOAs of agreements that
    have no document yet (new agreements, changed links); on every pass, the stored documents
    whose reading may come out better now (read by an older extractor, or scans OCR could
    not read and now can: `reread_reason`), so a partial read is never final. None when
    there was nothing to do; one that fails is reported, never fails the pass."""
    from open287g.db.ingest.documents import (
        agreement_urls_without_document,
        documents_published_at_urls,
        link_agreements,
    )
    from open287g.loaders.moas.load import PlannedMoa, load_moas, reread_reason
    from open287g.loaders.moas.read import ReadLimits

    try:
        async with engine.begin() as conn:
            missing: list[str] = []
            if lists_loaded:
                await link_agreements(conn)
                missing = await agreement_urls_without_document(conn)
            stored = await documents_published_at_urls(conn)
        again = [url for url, known in stored if reread_reason(known, ReadLimits())]
        urls = sorted(set(missing) | set(again))
        if not urls:
            return "none missing" if lists_loaded else None
        totals = await load_moas(engine, [PlannedMoa(url, url) for url in urls], settings)
    except Exception as exc:  # MOAs are extra: the lists are loaded whatever happens here
        logger.warning("loading MOAs failed: %s: %s", type(exc).__name__, exc)
        return f"failed ({type(exc).__name__})"
    return totals.summary()


async def _finish(
    engine: AsyncEngine,
    result: PassResult,
    started: dt.datetime,
    problems: list[str],
    page: PageState | None,
) -> PassResult:
    result.errors = problems
    result.outcome = "failed" if problems else "ok"
    async with engine.begin() as conn:
        result.failed_checks = await save_check(
            conn, at=started, error="; ".join(problems) or None, page=page
        )
        version = await conn.execute(text("SELECT coalesce(max(seq), 0) FROM changes"))
        result.data_version = int(version.scalar_one())
    (logger.warning if problems else logger.info)("%s", result.summary())
    return result


async def run_forever(
    engine: AsyncEngine, settings: Settings, *, every_seconds: float, backoff: float = 1.0
) -> None:
    """A pass every `every_seconds` (± jitter) until cancelled; a pass that cannot reach
    the database is logged and the next one tries again."""
    while True:
        try:
            await sync_once(engine, settings, backoff=backoff)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.error("sync pass failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(every_seconds * random.uniform(1 - JITTER, 1 + JITTER))  # noqa: S311
