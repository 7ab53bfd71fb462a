"""Read each MOA in a worker process that has a memory limit and a parent watching the clock.

PDFium is C++: a page it spends minutes on (Form XObjects nested seven deep, each drawing
the next ten times) cannot be interrupted from Python, and its allocations bypass Python.
So a worker is a process of its own whose address space is capped (RLIMIT_AS, inherited by
the Tesseract it runs), and the parent kills it when reading one document takes longer than
its limit. A worker that is killed or dies (PDFium aborts when an allocation fails) is
replaced, and the document is stored as unreadable with the reason: the load goes on.

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
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from open287g.loaders.moas.extract import extract
from open287g.loaders.moas.fields import Extraction
from open287g.loaders.moas.read import DocumentRead, Progress, ReadLimits, read_pdf

MB = 1024 * 1024
_START_TIMEOUT = 60  # seconds for a new worker to import its modules and take a job


@dataclass(frozen=True)
class Analysis:
    read: DocumentRead
    extraction: Extraction


def analyze(data: bytes, limits: ReadLimits, progress: Progress | None = None) -> Analysis:
    """Read and extract one PDF (runs in a worker process; words stay there)."""
    read = read_pdf(data, limits, progress)
    extraction = extract(read.pages) if read.pages else Extraction()
    read.pages = [replace(p, words=[]) for p in read.pages]
    return Analysis(read, extraction)


def unreadable(reason: str) -> Analysis:
    return Analysis(DocumentRead(None, reason=reason), Extraction())


def _serve(conn: Connection, memory_limit: int) -> None:
    """The worker's loop: one (data, limits) in, progress messages and one result out."""
    if memory_limit:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, hard))
    while True:
        try:
            data, limits = conn.recv()
        except (EOFError, OSError):
            return

        def progress(kind: str, page: int) -> None:
            conn.send((kind, page))

        progress("start", 0)
        try:
            conn.send(("done", analyze(data, limits, progress)))
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

    async def analyze(self, data: bytes) -> tuple[Analysis, float]:
        """The document's analysis and the seconds it took (a worker's start included);
        when it could not be read within the limits, an unreadable one whose reason says
        which limit, and on which page."""
        async with self._slots:
            started = time.monotonic()
            worker = self._idle.pop() if self._idle else self._start()
            result, healthy = await asyncio.to_thread(self._exchange, worker, data)
            seconds = time.monotonic() - started
            if healthy:
                self._idle.append(worker)
            else:
                await asyncio.to_thread(worker.stop)
            return result, seconds

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

    def _exchange(self, worker: _Worker, data: bytes) -> tuple[Analysis, bool]:
        """Send one document, follow its progress, enforce the clock (blocking)."""
        limits = self.limits
        # OCR is bounded inside the worker; this backstop only catches a worker that hangs.
        backstop = limits.time_limit + limits.ocr_budget + 2 * limits.ocr_timeout + 10
        pdf_time, page, in_ocr = 0.0, 0, False
        try:
            worker.conn.send((data, limits))
            # The clock starts when the worker takes the job (a new one imports first).
            if not worker.conn.poll(_START_TIMEOUT) or worker.conn.recv()[0] != "start":
                return unreadable(f"the PDF reader did not start in {_START_TIMEOUT} s"), False
            started = last = time.monotonic()
            while True:
                if in_ocr:
                    wait = backstop - (last - started)
                else:
                    wait = min(limits.time_limit - pdf_time, backstop - (last - started))
                ready = worker.conn.poll(max(wait, 0.0))
                now = time.monotonic()
                if not in_ocr:
                    pdf_time += now - last
                last = now
                if not ready:
                    worker.process.kill()
                    where = f" (page {page})" if page else ""
                    return unreadable(
                        f"reading took longer than the limit of {limits.time_limit:g} s{where}"
                    ), False
                kind, value = worker.conn.recv()
                if kind == "done":
                    return value, True
                if kind == "error":
                    return unreadable(value + (f" (page {page})" if page else "")), False
                page, in_ocr = value, kind == "ocr"
        except (EOFError, OSError, BrokenPipeError):
            return unreadable(self._death(worker, page)), False

    def _death(self, worker: _Worker, page: int) -> str:
        worker.process.join(5)
        code = worker.process.exitcode
        where = f" on page {page}" if page else ""
        if code is not None and code < 0 and -code in (signal.SIGABRT, signal.SIGSEGV):
            return (
                f"the PDF reader stopped{where} ({signal.Signals(-code).name}), most likely at"
                f" the memory limit of {self.limits.memory_limit} MB"
            )
        return f"the PDF reader crashed{where} (exit {code})"
