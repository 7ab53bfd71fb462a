"""Read each MOA in a worker process that has a memory limit and a parent watching the clock.

PDFium is C++: a page it spends minutes on (Form XObjects nested seven deep, each drawing
the next ten times) cannot be interrupted from Python, and its allocations bypass Python.
So a worker is a process of its own whose address space is capped (RLIMIT_AS, inherited by
the Tesseract it runs), and the parent kills it when reading one document takes longer than
its limit. A worker that is killed or dies (PDFium aborts when an allocation fails) is
replaced, and the load goes on. When a page broke the limit (its own time limit, or the
memory limit while on it), the document is read again with that page left unread and
the reason on it (`partial`); a document past its own time limit, or whose every page (or
more than MAX_SKIPPED_PAGES) broke one, is stored as unreadable with the reason.

The worker tells the parent which page it is on and when it hands a page to OCR: the time
limit counts PDF work (parsing, text, rendering) only, since OCR has its own limits
(`ReadLimits.ocr_timeout` per pass, `ReadLimits.ocr_budget` per document).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import cast

from open287g.loaders.moas.extract import extract
from open287g.loaders.moas.fields import Extraction
from open287g.loaders.moas.read import DocumentRead, Progress, ReadLimits, read_pdf

MB = 1024 * 1024
_START_TIMEOUT = 60  # seconds for a new worker to import its modules and take a job
MAX_SKIPPED_PAGES = 3  # pages of one document left unread before it is unreadable


@dataclass(frozen=True)
class Analysis:
    read: DocumentRead
    extraction: Extraction


def analyze(
    data: bytes,
    limits: ReadLimits,
    progress: Progress | None = None,
    skip: Mapping[int, str] | None = None,
) -> Analysis:
    """Read and extract one PDF (runs in a worker process; words stay there)."""
    read = read_pdf(data, limits, progress, skip)
    extraction = extract(read.pages) if read.pages else Extraction()
    read.pages = [replace(p, words=[], layer_words=[], line_words=[]) for p in read.pages]
    return Analysis(read, extraction)


def unreadable(reason: str) -> Analysis:
    return Analysis(DocumentRead(None, reason=reason), Extraction())


def _serve(conn: Connection, memory_limit: int) -> None:
    """The worker's loop: one (data, limits, pages to skip) in, progress messages and one
    result out."""
    if memory_limit:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, hard))
    while True:
        try:
            data, limits, skip = conn.recv()
        except (EOFError, OSError):
            return

        def progress(kind: str, page: int) -> None:
            conn.send((kind, page))

        progress("start", 0)
        try:
            conn.send(("done", analyze(data, limits, progress, skip)))
        except MemoryError:
            conn.send(("error", f"out of memory (the limit is {memory_limit // MB} MB)"))
            return  # a fresh worker, not a fragmented heap, reads the next document
        except Exception as exc:  # a reader bug costs one document, with the reason
            conn.send(("error", f"the reader failed: {type(exc).__name__}: {exc}"[:500]))
        del data


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class ReaderPool:
    """`jobs` worker processes reading documents under `limits` (started on demand)."""

    def __init__(self, jobs: int, limits: ReadLimits) -> None:
        self.limits = limits
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._slots = asyncio.Semaphore(max(1, jobs))
        # The largest resident size any worker reached, its own (not its children's):
        # what the memory limit bounds, as `load moas` reports it.
        self.peak_kb = 0

    async def analyze(self, data: bytes) -> tuple[Analysis, float]:
        """The document's analysis and the seconds it took (a worker's start included).
        A page that breaks a limit is left unread (`skipped`, with the reason) and the
        document read again without it; a document that breaks its own limit, or whose
        every page does, is unreadable, the reason naming the limit and the page."""
        async with self._slots:
            started = time.monotonic()
            result = await asyncio.to_thread(self._read, data)
            return result, time.monotonic() - started

    def close(self) -> None:
        while self._idle:
            self._idle.pop().stop()

    def _start(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(child, self.limits.memory_limit * MB), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _read(self, data: bytes) -> Analysis:
        """Attempts until one ends or one breaks a limit no skipped page can cure."""
        skip: dict[int, str] = {}
        clock = _Clock()
        while True:
            try:
                worker = self._idle.pop()
            except IndexError:
                worker = self._start()
            outcome = self._attempt(worker, data, skip, clock)
            self.peak_kb = max(self.peak_kb, own_peak_kb(worker.process.pid))
            if isinstance(outcome, Analysis):
                self._idle.append(worker)
                return outcome
            worker.stop()
            if outcome.whole_document or len(skip) >= MAX_SKIPPED_PAGES:
                return unreadable(outcome.reason)
            skip[outcome.page] = outcome.page_reason

    def _attempt(
        self, worker: _Worker, data: bytes, skip: dict[int, str], clock: _Clock
    ) -> Analysis | _Broken:
        """Send one document, follow its progress, enforce the clocks (blocking)."""
        limits = self.limits
        # OCR is bounded inside the worker; this backstop only catches a worker that hangs.
        backstop = limits.time_limit + limits.ocr_budget + 2 * limits.ocr_timeout + 10
        page, in_ocr, page_time = 0, False, 0.0
        try:
            worker.conn.send((data, limits, skip))
            # The clock starts when the worker takes the job (a new one imports first).
            if not worker.conn.poll(_START_TIMEOUT) or worker.conn.recv()[0] != "start":
                return _Broken(0, f"the PDF reader did not start in {_START_TIMEOUT} s")
            started = last = time.monotonic()
            while True:
                document_left = limits.time_limit - clock.pdf_time
                page_left = limits.page_time_limit - page_time if page else document_left
                if in_ocr:
                    wait = backstop - (last - started)
                else:
                    wait = min(document_left, page_left, backstop - (last - started))
                ready = worker.conn.poll(max(wait, 0.0))
                now = time.monotonic()
                if not in_ocr:
                    clock.pdf_time += now - last
                    page_time += now - last
                last = now
                if not ready:
                    worker.process.kill()
                    return self._late(page, in_ocr or document_left <= page_left)
                kind, value = worker.conn.recv()
                if kind == "done":
                    return cast(Analysis, value)
                if kind == "error":
                    return _Broken(page, f"{value}{_on(page)}", value)
                if value != page:
                    page_time = 0.0
                page, in_ocr = value, kind == "ocr"
        except (EOFError, OSError):
            why = self._death(worker)
            return _Broken(page, f"{why}{_on(page)}", why)

    def _late(self, page: int, whole_document: bool) -> _Broken:
        limits = self.limits
        if whole_document:
            why = f"reading took longer than the limit of {limits.time_limit:g} s{_on(page)}"
            return _Broken(page, why, whole_document=True)
        why = f"reading it took longer than the page limit of {limits.page_time_limit:g} s"
        return _Broken(page, f"{why}{_on(page)}", why)

    def _death(self, worker: _Worker) -> str:
        worker.process.join(5)
        code = worker.process.exitcode
        if code is not None and code < 0 and -code in (signal.SIGABRT, signal.SIGSEGV):
            return (
                f"the PDF reader stopped ({signal.Signals(-code).name}), most likely at the"
                f" memory limit of {self.limits.memory_limit} MB"
            )
        return f"the PDF reader crashed (exit {code})"


def own_peak_kb(pid: int | None) -> int:
    """A process's own peak resident size in kB (Linux's VmHWM, which starts afresh at
    exec, unlike `ru_maxrss`); 0 when it cannot be read (gone, or not Linux)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _on(page: int) -> str:
    return f" (page {page})" if page else ""


@dataclass
class _Clock:
    """A document's PDF time across its attempts (OCR not counted)."""

    pdf_time: float = 0.0


@dataclass(frozen=True)
class _Broken:
    """An attempt that broke a limit on `page` (0: before any page was read)."""

    page: int
    reason: str  # for the document
    page_reason: str = ""  # for the page, when skipping it may cure the document
    whole_document: bool = False  # the document's own limit: skipping a page cannot cure it

    def __post_init__(self) -> None:
        if not self.page:
            object.__setattr__(self, "whole_document", True)
