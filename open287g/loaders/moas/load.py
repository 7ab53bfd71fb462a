"""`open287g load moas`: read MOA PDFs (worker processes), store each once per sha256.

Reading a PDF (PDFium, Tesseract) runs in worker processes: the CPU work runs in
parallel, a PDF that crashes the reader takes down a worker, not the load, and memory
a page needed is returned when the worker moves on. Writes happen in this process, one
transaction per document, so a failure leaves the documents before it loaded.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import multiprocessing
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from open287g.config import Settings
from open287g.db.ingest.documents import (
    DATASET,
    DocumentRow,
    FieldRow,
    PageRow,
    document_id_of,
    file_name_of,
    insert_document,
    link_agreements,
    officials_from_documents,
)
from open287g.db.ingest.provenance import (
    LoadCounts,
    begin_load,
    file_transaction,
    finish_load,
    lock_dataset,
)
from open287g.loaders.errors import LoadError
from open287g.loaders.moas.extract import extract
from open287g.loaders.moas.fields import PUBLISH_CONFIDENCE, Extraction, Signatory, Value
from open287g.loaders.moas.read import DocumentRead, ReadLimits, read_pdf
from open287g.loaders.sources import SourceDocument, expand_paths, is_url, read_one

MANIFEST = "manifest.csv"


@dataclass(frozen=True)
class Analysis:
    read: DocumentRead
    extraction: Extraction


def analyze(data: bytes, limits: ReadLimits) -> Analysis:
    """Read and extract one PDF (runs in a worker process; words stay there)."""
    read = read_pdf(data, limits)
    extraction = extract(read.pages) if read.pages else Extraction()
    read.pages = [replace(p, words=[]) for p in read.pages]
    return Analysis(read, extraction)


@dataclass(frozen=True)
class PlannedMoa:
    source: str
    url: str | None = None  # where ICE published it (a folder's manifest.csv says)
    archived_at: dt.datetime | None = None


@dataclass
class MoaResult:
    name: str
    document_id: int | None
    status: str  # read, partial, unreadable, unchanged
    pages: int = 0
    ocr_pages: int = 0
    links: int = 0
    reason: str | None = None


@dataclass
class MoaTotals:
    results: list[MoaResult] = field(default_factory=list)

    def summary(self) -> str:
        by = [r.status for r in self.results]
        pages = sum(r.pages for r in self.results)
        ocr = sum(r.ocr_pages for r in self.results)
        inserted = sum(s not in ("unchanged", "failed") for s in by)
        return (
            f"inserted {inserted} / unchanged {by.count('unchanged')}"
            f" / partly read {by.count('partial')} / unreadable {by.count('unreadable')}"
            f" / failed {by.count('failed')};"
            f" {pages} pages ({ocr} by OCR)"
        )


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
    keep_going: bool = False,
    on_result: Callable[[MoaResult], None] | None = None,
) -> MoaTotals:
    """Load each planned PDF, idempotent by sha256. A source that cannot be fetched or is
    too large stops the command (LoadError), the documents before it loaded; with
    `keep_going` it is reported as `failed` and the rest load."""
    limits = limits or ReadLimits()
    jobs = max(1, jobs)
    totals = MoaTotals()
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    db_lock = asyncio.Lock()  # one statement at a time when `target` is a connection
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:

        async def prepare(item: PlannedMoa) -> tuple[SourceDocument, Analysis | None]:
            document = await read_one(item.source, settings)
            if item.archived_at is not None:
                document = replace(document, fetched_at=item.archived_at)
            async with db_lock:
                known = await _known(target, document.sha256)
            if known:
                return document, None
            try:
                analysis = await loop.run_in_executor(pool, analyze, document.data, limits)
            except BrokenProcessPool as exc:
                raise LoadError(document.label, "the PDF reader crashed on this file") from exc
            return document, analysis

        # A window of `jobs + 1` documents in flight: workers stay busy while one is being
        # written, and no more than that many PDFs are held in memory.
        pending: deque[tuple[PlannedMoa, asyncio.Future[tuple[SourceDocument, Analysis | None]]]]
        pending = deque()
        items = iter(planned)
        try:
            while True:
                while len(pending) <= jobs and (item := next(items, None)) is not None:
                    pending.append((item, asyncio.ensure_future(prepare(item))))
                if not pending:
                    break
                item, task = pending.popleft()
                try:
                    document, analysis = await task
                except LoadError as exc:
                    if not keep_going:
                        raise
                    result = MoaResult(item.source, None, "failed", reason=exc.message)
                else:
                    async with db_lock:
                        result = await _store(target, item, document, analysis)
                totals.results.append(result)
                if on_result is not None:
                    on_result(result)
        finally:
            for _, task in pending:
                task.cancel()
            await asyncio.gather(*(task for _, task in pending), return_exceptions=True)
    return totals


async def _known(target: AsyncEngine | AsyncConnection, sha256: str) -> bool:
    if isinstance(target, AsyncEngine):
        async with target.connect() as conn:
            return await document_id_of(conn, sha256) is not None
    return await document_id_of(target, sha256) is not None


async def _store(
    target: AsyncEngine | AsyncConnection,
    item: PlannedMoa,
    document: SourceDocument,
    analysis: Analysis | None,
) -> MoaResult:
    started = dt.datetime.now(dt.UTC)
    async with file_transaction(target) as conn:
        await lock_dataset(conn, DATASET)
        existing = await document_id_of(conn, document.sha256)
        if existing is not None or analysis is None:
            return MoaResult(document.name, existing, "unchanged")
        start = await begin_load(conn, dataset=DATASET, source=document.facts(), started_at=started)
        row = document_row(document, item, analysis)
        document_id = await insert_document(
            conn, row, source_file_id=start.source_file_id, run_id=start.load_run_id
        )
        links = await link_agreements(conn, [document_id])
        officials = await officials_from_documents(conn, start.load_run_id, [document_id])
        counts = LoadCounts(rows_read=len(row.pages), inserted=1, updated=officials)
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


_CANDIDATE = f"confidence below {PUBLISH_CONFIDENCE}: a candidate, not published"


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


__all__ = ["Signatory", "analyze", "load_moas", "plan_moas"]
