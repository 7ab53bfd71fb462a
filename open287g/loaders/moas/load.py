"""`open287g load moas`: read MOA PDFs (worker processes), store each once per sha256.

Reading a PDF (PDFium, Tesseract) runs in worker processes with a time and a memory limit
(workers.py): the CPU work runs in parallel, and a PDF that is too costly or crashes the
reader is stored as unreadable with the reason. Writes happen in this process, one
transaction per document: a file that cannot be fetched or stored is reported `failed`
with the reason, and the load goes on.

A document already stored is read again when its reading may now come out better
(`reread_reason`): it was read by an older extractor, or OCR could not read its scans
and now can; `reread=True` reads every one again. A re-read replaces the document's
pages and fields in place, through the same load run and change feed as a first read.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.ingest.documents import (
    DATASET,
    DocumentRow,
    FieldRow,
    KnownDocument,
    PageRow,
    drop_stale_officials,
    file_name_of,
    insert_document,
    known_document,
    link_agreements,
    officials_from_documents,
    replace_document,
)
from open287g.db.ingest.provenance import (
    LoadCounts,
    begin_load,
    begin_reload,
    file_transaction,
    finish_load,
    lock_dataset,
)
from open287g.loaders.errors import LoadError
from open287g.loaders.moas.extract import EXTRACTOR_VERSION
from open287g.loaders.moas.fields import Extraction, Signatory, Value
from open287g.loaders.moas.lines import engine_version as lines_engine_version
from open287g.loaders.moas.ocr import OcrUnavailable, engine_version
from open287g.loaders.moas.read import BLOCK_UNREAD, SCAN_UNREAD, ReadLimits
from open287g.loaders.moas.workers import Analysis, ReaderPool, analyze
from open287g.loaders.sources import SourceDocument, expand_paths, is_url, read_one

MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class PlannedMoa:
    source: str
    url: str | None = None  # where ICE published it (a folder's manifest.csv says)
    archived_at: dt.datetime | None = None


@dataclass
class MoaResult:
    name: str
    document_id: int | None
    status: str  # read, partial, unreadable, unchanged, failed (not stored)
    pages: int = 0
    ocr_pages: int = 0
    links: int = 0
    reason: str | None = None
    reread: str | None = None  # why a stored document was read again
    seconds: float = 0.0  # reading it took (in a worker)

    def line(self) -> str:
        """The file's one-line result, as `load moas` prints it."""
        again = f" (read again: {self.reread})" if self.reread else ""
        pages = f", {self.pages} pages ({self.ocr_pages} by OCR)" if self.pages else ""
        pages += f" in {self.seconds:.1f} s" if self.status != "unchanged" else ""
        reason = f": {self.reason}" if self.reason and self.status != "unchanged" else ""
        return f"{self.name}: {self.status}{again}{pages}{reason}"


@dataclass
class MoaTotals:
    results: list[MoaResult] = field(default_factory=list)
    worker_peak_mb: float = 0.0  # the largest any reader process reached (its own)

    @property
    def failed(self) -> int:
        """Files that could not be stored, or were stored unreadable."""
        return sum(r.status in ("failed", "unreadable") for r in self.results)

    def summary(self) -> str:
        by = [r.status for r in self.results]
        pages = sum(r.pages for r in self.results)
        ocr = sum(r.ocr_pages for r in self.results)
        reread = sum(r.reread is not None for r in self.results)
        inserted = sum(s not in ("unchanged", "failed") for s in by) - reread
        return (
            f"inserted {inserted} / unchanged {by.count('unchanged')} / read again {reread}"
            f" / partly read {by.count('partial')} / unreadable {by.count('unreadable')}"
            f" / failed {by.count('failed')};"
            f" {pages} pages ({ocr} by OCR)"
            + (
                f"; readers' peak memory {self.worker_peak_mb:.0f} MB"
                if self.worker_peak_mb
                else ""
            )
        )


def reread_reason(known: KnownDocument, limits: ReadLimits, *, reread: bool = False) -> str | None:
    """Why a stored document is read again, or None: its reading may come out better."""
    if reread:
        return "asked to"
    if known.extractor_version is None or known.extractor_version < EXTRACTOR_VERSION:
        return f"read by extractor {known.extractor_version or 0}, now {EXTRACTOR_VERSION}"
    reason = known.reason or ""
    if known.status == "read" or not _works(limits, engine_version):
        return None
    if SCAN_UNREAD in reason:
        return "its scans were not read by OCR; OCR is available now"
    if BLOCK_UNREAD in reason and _works(limits, lines_engine_version):
        return "its signature block was not read by the second OCR engine; it is available now"
    return None


def _works(limits: ReadLimits, engine: Callable[[], str]) -> bool:
    """Whether OCR is on and `engine` (a function naming its version) is installed."""
    if not limits.ocr:
        return False
    try:
        engine()
    except OcrUnavailable:
        return False
    return True


def plan_moas(sources: Sequence[str]) -> list[PlannedMoa]:
    """Files and URLs as given, folders expanded to their PDFs. A folder's `manifest.csv`
    (file, ice_url, archived_at) supplies each file's published URL and archive time."""
    manifest: dict[str, tuple[str | None, dt.datetime | None]] = {}
    for source in sources:
        path = Path(source)
        if not is_url(source) and path.is_dir() and (path / MANIFEST).is_file():
            manifest.update(_read_manifest(path / MANIFEST))
    planned = []
    for item in expand_paths(sources, (".pdf",)):
        url, archived = manifest.get(Path(item).name, (None, None))
        planned.append(PlannedMoa(item, item if is_url(item) else url, archived))
    return planned


def _read_manifest(path: Path) -> dict[str, tuple[str | None, dt.datetime | None]]:
    entries: dict[str, tuple[str | None, dt.datetime | None]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("file") or "").strip()
            if not name:
                continue
            archived = None
            try:
                archived = dt.datetime.strptime(row.get("archived_at") or "", "%Y%m%d_%H%M%S")
                archived = archived.replace(tzinfo=dt.UTC)
            except ValueError:
                pass
            entries[name] = ((row.get("ice_url") or "").strip() or None, archived)
    return entries


async def load_moas(
    target: AsyncEngine | AsyncConnection,
    planned: Sequence[PlannedMoa],
    settings: Settings,
    *,
    limits: ReadLimits | None = None,
    jobs: int = 1,
    reread: bool = False,
    on_result: Callable[[MoaResult], None] | None = None,
) -> MoaTotals:
    """Load each planned PDF, idempotent by sha256 (a stored document is read again when
    `reread_reason` says so). Every file gets a result; a source that cannot be fetched,
    is too large or cannot be stored is `failed` with the reason, and the rest load."""
    limits = limits or ReadLimits()
    engine_version.cache_clear()  # OCR installed since the last load in this process
    lines_engine_version.cache_clear()
    jobs = max(1, jobs)
    totals = MoaTotals()
    db_lock = asyncio.Lock()  # one statement at a time when `target` is a connection
    pool = ReaderPool(jobs, limits)

    async def prepare(item: PlannedMoa) -> _Prepared:
        document = await read_one(item.source, settings)
        if item.archived_at is not None:
            document = replace(document, fetched_at=item.archived_at)
        async with db_lock:
            known = await _known(target, document.sha256)
        why = None if known is None else reread_reason(known, limits, reread=reread)
        if known is not None and why is None:
            return _Prepared(document, None, known, None)
        analysis, seconds = await pool.analyze(document.data)
        return _Prepared(document, analysis, known, why, seconds)

    # A window of `jobs + 1` documents in flight: workers stay busy while one is being
    # written, and no more than that many PDFs are held in memory.
    pending: deque[tuple[PlannedMoa, asyncio.Future[_Prepared]]] = deque()
    items = iter(planned)
    try:
        while True:
            while len(pending) <= jobs and (item := next(items, None)) is not None:
                pending.append((item, asyncio.ensure_future(prepare(item))))
            if not pending:
                break
            item, task = pending.popleft()
            try:
                prepared = await task
            except LoadError as exc:
                result = MoaResult(item.source, None, "failed", reason=exc.message)
            else:
                async with db_lock:
                    result = await _store_or_fail(target, item, prepared)
            totals.results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        for _, task in pending:
            task.cancel()
        await asyncio.gather(*(task for _, task in pending), return_exceptions=True)
        await asyncio.to_thread(pool.close)
        totals.worker_peak_mb = pool.peak_kb / 1024
    return totals


@dataclass(frozen=True)
class _Prepared:
    document: SourceDocument
    analysis: Analysis | None  # None: stored already, nothing to read
    known: KnownDocument | None
    reread: str | None
    seconds: float = 0.0  # reading it took


async def _known(target: AsyncEngine | AsyncConnection, sha256: str) -> KnownDocument | None:
    if isinstance(target, AsyncEngine):
        async with target.connect() as conn:
            return await known_document(conn, sha256)
    return await known_document(target, sha256)


async def _store_or_fail(
    target: AsyncEngine | AsyncConnection, item: PlannedMoa, prepared: _Prepared
) -> MoaResult:
    """Store one document; a database error fails this file (its transaction rolls back),
    not the load."""
    try:
        return await _store(target, item, prepared)
    except DBAPIError as exc:
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return MoaResult(prepared.document.name, None, "failed", reason=f"not stored: {message}")


async def _store(
    target: AsyncEngine | AsyncConnection, item: PlannedMoa, prepared: _Prepared
) -> MoaResult:
    document, analysis = prepared.document, prepared.analysis
    started = dt.datetime.now(dt.UTC)
    async with file_transaction(target) as conn:
        await lock_dataset(conn, DATASET)
        known = await known_document(conn, document.sha256)
        if analysis is None or (known is not None and prepared.known is None):
            # Stored already (or, since this load looked, by a concurrent one).
            return MoaResult(document.name, known.id if known else None, "unchanged")
        if known is None:
            start = await begin_load(
                conn, dataset=DATASET, source=document.facts(), started_at=started
            )
        else:
            start = await begin_reload(
                conn, dataset=DATASET, source_file_id=known.source_file_id, started_at=started
            )
        row = document_row(document, item, analysis)
        if known is None:
            document_id = await insert_document(
                conn, row, source_file_id=start.source_file_id, run_id=start.load_run_id
            )
            counts = LoadCounts(rows_read=len(row.pages), inserted=1)
        else:
            document_id = known.id
            await replace_document(
                conn,
                document_id,
                row,
                source_file_id=start.source_file_id,
                run_id=start.load_run_id,
            )
            counts = LoadCounts(rows_read=len(row.pages), updated=1)
        links = await link_agreements(conn, [document_id])
        officials = await officials_from_documents(conn, start.load_run_id, [document_id])
        if known is not None:
            gone = await drop_stale_officials(conn, start.load_run_id, document_id)
            counts = replace(counts, ended=gone)
        counts = replace(counts, updated=counts.updated + officials)
        await finish_load(conn, start.load_run_id, counts, [])
    read = analysis.read
    return MoaResult(
        document.name,
        document_id,
        read.status,
        pages=len(read.pages),
        ocr_pages=sum(p.method == "ocr" for p in read.pages),
        links=links,
        reason=read.reason,
        reread=prepared.reread if known is not None else None,
        seconds=prepared.seconds,
    )


def document_row(document: SourceDocument, item: PlannedMoa, analysis: Analysis) -> DocumentRow:
    read, extraction = analysis.read, analysis.extraction
    name = file_name_of(item.url) if item.url else document.name
    # Only published values (not candidates) become the document's facts.
    signed = extraction.signed_on.value if extraction.signed_on.published else None
    model = extraction.program_model
    return DocumentRow(
        sha256=document.sha256,
        size=len(document.data),
        page_count=read.page_count,
        file_name=name,
        url=item.url or document.url,
        fetched_at=document.fetched_at,
        status=read.status,
        reason=read.reason,
        extractor_version=EXTRACTOR_VERSION,
        text_method=read.method,
        signed_on=dt.date.fromisoformat(signed) if signed else None,
        program_model=model.value if model.published else None,
        extraction=extraction.as_json(),
        pages=[
            PageRow(p.number, p.method, p.engine, p.confidence, p.reason, p.text)
            for p in read.pages
        ],
        fields=field_rows(extraction),
    )


_CANDIDATE = "confidence below the publication threshold: a candidate, not published"


def field_rows(extraction: Extraction) -> list[FieldRow]:
    """The extraction as rows of `document_fields` (one per value, with its evidence)."""
    rows: list[FieldRow] = []

    def add(name: str, value: Value, ordinal: int = 0) -> None:
        rows.append(
            FieldRow(
                name,
                ordinal,
                value.value,
                value.page,
                value.method,
                value.confidence,
                value.reason or (_CANDIDATE if value.candidate else None),
                value.raw,
                value.candidate,
                value.box,
            )
        )

    for role, signatory in (
        ("agency_signatory", extraction.agency_signatory),
        ("ice_signatory", extraction.ice_signatory),
    ):
        for part in ("name", "title", "agency", "signed_on"):
            add(f"{role}.{part}", getattr(signatory, part))
    add("program_model", extraction.program_model)
    add("signed_on", extraction.signed_on)
    for ordinal, contact in enumerate(extraction.points_of_contact):
        add("point_of_contact", contact, ordinal)
    return rows


__all__ = ["Analysis", "Signatory", "analyze", "load_moas", "plan_moas"]
