"""Read every page of an MOA: its text layer when it has one, OCR when it is a scan.

Per page the result says how its text was obtained (`text-layer`, `ocr`, or `none` with a
reason), by which engine and, for OCR, with what mean word confidence. A document that
cannot be opened at all is still a result, with its reason: it is stored, never dropped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pypdfium2 as pdfium

from open287g.loaders.moas.layout import Word
from open287g.loaders.moas.lines import recognize_lines
from open287g.loaders.moas.ocr import (
    OcrFailed,
    OcrPage,
    OcrUnavailable,
    engine_version,
    recognize,
)
from open287g.loaders.moas.pdf import load_page, open_pdf, render_gray, text_layer

TEXT_LAYER = "text-layer"
OCR = "ocr"
NONE = "none"

# A page whose text layer has fewer characters than this is read with OCR (scans often
# carry a few typed words: a date, the ICE signatory's name).
MIN_TEXT_CHARS = 200
_SIGNATURE_PAGE = re.compile(r"By signing|Signature|For the LEA|For ICE", re.IGNORECASE)
# A scanned page (one image covering this share of it) whose text layer is the scanner's
# OCR: on a signature page that layer is often garbled or misses the typed names beside
# the signatures, so the page is read with Tesseract too (see `_read_page`).
SCAN_COVER = 0.8
_SIGNATURE_TEXT = re.compile(r"By\s*signing|For\s*the\s*LEA|For\s*ICE", re.IGNORECASE)


# How a page says a reading is missing, so that a later load reads it again once the
# cause may be gone (`load.reread_reason`): a scan OCR did not read (OCR off, missing,
# timed out, failed), and a signature block the second engine did not read.
SCAN_UNREAD = "scanned page not read"
BLOCK_UNREAD = "signature block not read by the second OCR engine"


# Told which page the reader is on: ("page", n) when PDF work on page n starts or resumes,
# ("ocr", n) when page n goes to OCR (workers.py counts PDF time and OCR time apart).
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one document may cost (README "Loading MOA documents")."""

    max_pages: int = 60
    dpi: int = 300
    max_pixels: int = 40_000_000  # per rendered page: a hostile page size cannot exhaust memory
    ocr_timeout: float = 60.0  # seconds per page and OCR pass
    ocr_budget: float = 600.0  # seconds of OCR per document; later scanned pages wait
    time_limit: float = 20.0  # seconds of PDF work (parse, text, render) per document
    page_time_limit: float = 10.0  # seconds of PDF work on one page; past it, it is skipped
    memory_limit: int = 512  # MB of address space per worker process (and its Tesseract)
    ocr: bool = True


@dataclass
class _OcrClock:
    """The document's OCR time so far, against `ReadLimits.ocr_budget`."""

    limits: ReadLimits
    used: float = 0.0

    def timeout(self) -> float:
        left = self.limits.ocr_budget - self.used
        if left <= 0:
            raise OcrFailed(f"the document's OCR budget of {self.limits.ocr_budget:g} s is spent")
        return min(self.limits.ocr_timeout, left)


@dataclass
class PageRead:
    number: int
    method: str
    engine: str | None
    confidence: float | None
    text: str
    reason: str | None = None
    words: list[Word] = field(default_factory=list, repr=False)
    width: float = 612.0
    skipped: bool = False  # not read: reading it broke a limit (workers.py)
    # A scanned signature page OCR-ed although it has a scanner's text layer: that layer's
    # words, a second reading the extractor falls back on (extract.py).
    layer_words: list[Word] = field(default_factory=list, repr=False)
    # A scanned signature page read line by line by a second engine (`lines.py`), which
    # reads typed names under signatures and handwritten digits Tesseract misses.
    line_words: list[Word] = field(default_factory=list, repr=False)


@dataclass
class DocumentRead:
    page_count: int | None
    pages: list[PageRead] = field(default_factory=list)
    reason: str | None = None  # why the document (or some page) could not be read

    @property
    def status(self) -> str:
        if self.reason is not None and all(p.skipped for p in self.pages):
            return "unreadable"  # not opened, or every page broke a limit
        if any(p.reason for p in self.pages):  # a scan unread beside a few typed words too
            return "partial"
        return "read"

    @property
    def method(self) -> str:
        methods = {p.method for p in self.pages} - {NONE}
        if not methods:
            return NONE
        return methods.pop() if len(methods) == 1 else "mixed"


def pdfium_engine() -> str:
    return f"pdfium {pdfium.PDFIUM_INFO.build}"


def read_pdf(
    data: bytes,
    limits: ReadLimits,
    progress: Progress | None = None,
    skip: Mapping[int, str] | None = None,
) -> DocumentRead:
    """Every page read; the pages in `skip` (page number: why) are left unread."""
    if not data.startswith(b"%PDF-"):
        return DocumentRead(None, reason="not a PDF file (no %PDF- header)")
    try:
        pdf = open_pdf(data)
    except pdfium.PdfiumError as exc:
        return DocumentRead(None, reason=f"PDF cannot be opened: {exc}")
    try:
        count = len(pdf)
        if count > limits.max_pages:
            return DocumentRead(count, reason=f"{count} pages; the limit is {limits.max_pages}")
        result = DocumentRead(count)
        clock = _OcrClock(limits)
        for index in range(count):
            if skip and index + 1 in skip:
                why = f"not read: {skip[index + 1]}"
                result.pages.append(PageRead(index + 1, NONE, None, None, "", why, skipped=True))
                continue
            result.pages.append(_read_page(pdf, index, clock, progress or _quiet))
        if any(p.reason for p in result.pages):
            result.reason = "; ".join(
                f"page {p.number}: {p.reason}" for p in result.pages if p.reason
            )
        return result
    finally:
        pdf.close()


def _quiet(kind: str, page: int) -> None:
    pass


def _read_page(
    pdf: pdfium.PdfDocument, index: int, clock: _OcrClock, progress: Progress
) -> PageRead:
    number, limits = index + 1, clock.limits
    progress("page", number)
    try:
        page = load_page(pdf, index)
    except pdfium.PdfiumError as exc:
        return PageRead(number, NONE, None, None, "", reason=f"page cannot be loaded: {exc}")
    try:
        layer = text_layer(page)
        own = PageRead(
            number,
            TEXT_LAYER,
            pdfium_engine(),
            None,
            layer.text.strip(),
            words=layer.words,
            width=layer.width,
        )
        scanned_signatures = (
            layer.image_cover >= SCAN_COVER
            and limits.ocr
            and _SIGNATURE_TEXT.search(own.text) is not None
        )
        if (len(own.text) >= MIN_TEXT_CHARS or not layer.has_image) and not scanned_signatures:
            if not own.text:
                own.method, own.engine = NONE, None
            return own
        if not limits.ocr:
            return _fallback(own, "OCR turned off")
        try:
            if scanned_signatures:
                return _ocr_signature_words(page, own, clock, progress)
            return _ocr_page(page, number, clock, layer.width, progress)
        except (OcrUnavailable, OcrFailed) as exc:
            if scanned_signatures:
                return own  # the scanner's own text layer is still a reading
            return _fallback(own, str(exc))
    finally:
        page.close()


def _fallback(own: PageRead, reason: str) -> PageRead:
    """A scan OCR could not read: keep what little text layer it has, and say why."""
    if not own.text:
        own.method, own.engine = NONE, None
    own.reason = f"{SCAN_UNREAD}: {reason}"
    return own


def _ocr_page(
    page: pdfium.PdfPage, number: int, clock: _OcrClock, width: float, progress: Progress
) -> PageRead:
    limits = clock.limits
    clock.timeout()  # a spent budget: no rendering either
    image, points_per_pixel = render_gray(page, limits.dpi, limits.max_pixels)

    def ocr(psm: int) -> OcrPage:
        timeout = clock.timeout()
        progress("ocr", number)
        started = time.monotonic()
        try:
            return recognize(image, points_per_pixel, psm=psm, timeout=timeout)
        finally:
            clock.used += time.monotonic() - started
            progress("page", number)

    reading = ocr(3)
    words = reading.words
    line_words: list[Word] = []
    reason = None
    if _SIGNATURE_PAGE.search(reading.text):
        # Names typed or stamped beside a signature are often skipped in reading order;
        # a sparse-text pass finds them, with positions for the extractor.
        words = ocr(11).words
        line_words, reason = _lines(image, points_per_pixel, number, clock, progress, words)
    return PageRead(
        number,
        OCR,
        engine_version(),
        reading.confidence,
        reading.text,
        reason,
        words=words,
        width=width,
        line_words=line_words,
    )


def _signing_paragraph_top(words: list[Word]) -> float:
    """Where "By signing this MOA …" starts on the page (0 when it is not there): `By`
    followed on its line by a word starting `sign`. Only that page goes to the line
    engine (a page that merely mentions ICE or signatures does not)."""
    tops = [
        by.y0
        for by in words
        if by.text == "By"
        for after in words
        if after.text.lower().startswith("sign")
        and 0 < after.x0 - by.x1 < 4 * by.height
        and abs(after.yc - by.yc) < by.height / 2
    ]
    return max(0.0, min(tops) - 2) if tops else 0.0


def _lines(
    image: bytes,
    points_per_pixel: float,
    number: int,
    clock: _OcrClock,
    progress: Progress,
    words: list[Word],
) -> tuple[list[Word], str | None]:
    """The signature page's words as the line engine reads them, below the "By signing"
    paragraph where Tesseract's `words` place it, and why there are none when the engine
    is missing or failed: Tesseract's reading stands alone then, and the page is
    `partial`, so a later load reads it again (the cause may be gone)."""
    top = _signing_paragraph_top(words)
    if top <= 0:
        return [], None  # not the page the signatures follow (or Tesseract did not place it)
    progress("ocr", number)
    started = time.monotonic()
    try:
        timeout = clock.timeout()
        return recognize_lines(image, points_per_pixel, timeout=timeout, top=top).words, None
    except (OcrUnavailable, OcrFailed) as exc:
        return [], f"{BLOCK_UNREAD}: {exc}"
    finally:
        clock.used += time.monotonic() - started
        progress("page", number)


def _ocr_signature_words(
    page: pdfium.PdfPage, own: PageRead, clock: _OcrClock, progress: Progress
) -> PageRead:
    """A scanned signature page with a scanner's text layer: its text stays that layer
    (searchable as published), its words for the extractor come from Tesseract's
    sparse-text pass, which reads the typed names and stamps beside signatures."""
    limits = clock.limits
    clock.timeout()  # a spent budget: no rendering either
    image, points_per_pixel = render_gray(page, limits.dpi, limits.max_pixels)
    timeout = clock.timeout()
    progress("ocr", own.number)
    started = time.monotonic()
    try:
        reading = recognize(image, points_per_pixel, psm=11, timeout=timeout)
    finally:
        clock.used += time.monotonic() - started
        progress("page", own.number)
    line_words, reason = _lines(image, points_per_pixel, own.number, clock, progress, reading.words)
    return PageRead(
        own.number,
        OCR,
        engine_version(),
        reading.confidence,
        own.text,
        reason,
        words=reading.words,
        width=own.width,
        layer_words=own.words,
        line_words=line_words,
    )
