"""The PDF side, through PDFium (pypdfium2): page count, the text layer with the position
of every word, whether a page holds an image, and rendering a page for OCR.

PDFium is the PDF engine of Chromium, fuzzed continuously; it is still fed only bounded
input (file size and page count are checked by the caller) and runs in a worker process.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from open287g.loaders.moas.layout import Word
from open287g.text import valid_unicode

# Some MOAs embed subset fonts without a Unicode map: PDFium then reports the glyph index
# (and flags a map error). Those fonts use the standard Macintosh glyph order, in which
# glyph 3 is the space and glyph n is ASCII n + 29 (")RUWKH/($" is "For the LEA").
_MAC_GLYPH_OFFSET = 29


def _char(raw: object, index: int) -> str:
    code = int(pdfium_c.FPDFText_GetUnicode(raw, index))
    if pdfium_c.FPDFText_HasUnicodeMapError(raw, index) and 0x20 <= code + _MAC_GLYPH_OFFSET < 0x7F:
        code += _MAC_GLYPH_OFFSET
    return chr(code) if 0 < code < 0x110000 else " "


@dataclass(frozen=True, slots=True)
class TextLayer:
    text: str
    words: list[Word]
    has_image: bool
    width: float
    height: float
    image_cover: float = 0.0  # the largest share of the page one image covers (1: a scan)


def open_pdf(data: bytes) -> pdfium.PdfDocument:
    """Raises pdfium.PdfiumError for a damaged or encrypted file."""
    return pdfium.PdfDocument(data)


def load_page(pdf: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    """The page with its annotations (form fields, signature stamps) flattened into its
    content: values typed into a PDF form are part of what the page says."""
    page = pdf[index]
    if pdfium_c.FPDFPage_GetAnnotCount(page.raw) > 0:
        flattened = pdfium_c.FPDFPage_Flatten(page.raw, pdfium_c.FLAT_NORMALDISPLAY)
        if flattened == pdfium_c.FLATTEN_SUCCESS:
            page.close()
            page = pdf[index]
    return page


def text_layer(page: pdfium.PdfPage) -> TextLayer:
    """The page's own text and its words with boxes (PDF points, origin top left)."""
    width, height = page.get_size()
    textpage = page.get_textpage()
    try:
        text, words = _words(textpage, height)
    finally:
        textpage.close()
    has_image, cover = _images(page, width * height)
    return TextLayer(text, words, has_image, width, height, cover)


# Characters of one page read one by one, with boxes, into words (a Python loop: about
# 75,000 characters a second on a loaded core). An MOA page holds about 5,000; the rest of
# a page longer than this is taken as PDFium gives it, in one call, without word boxes.
MAX_WORD_CHARS = 100_000


def _words(textpage: pdfium.PdfTextPage, height: float) -> tuple[str, list[Word]]:
    """The page's text in PDFium's reading order, and its words with boxes (those in its
    first MAX_WORD_CHARS characters)."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    out: list[str] = []
    rect = pdfium_c.FS_RECTF()
    words: list[Word] = []
    chars: list[str] = []
    box = [0.0, 0.0, 0.0, 0.0]  # left, top, right, bottom in PDF coordinates

    def flush() -> None:
        if chars:
            text = valid_unicode("".join(chars))
            words.append(Word(text, box[0], height - box[1], box[2], height - box[3]))
            chars.clear()

    # A character outside the Basic Multilingual Plane (math italic 𝑥) comes as two
    # UTF-16 surrogates: valid_unicode joins them (a lone half becomes U+FFFD).
    for index in range(min(count, MAX_WORD_CHARS)):
        char = _char(raw, index)
        out.append(char if char in "\n\t " or char > " " else " ")
        if char <= " " or char.isspace():
            flush()
            continue
        pdfium_c.FPDFText_GetLooseCharBox(raw, index, ctypes.byref(rect))
        if chars and (
            rect.left - box[2] > 0.3 * max(rect.top - rect.bottom, 1.0)
            or rect.top < box[3]
            or rect.bottom > box[1]
        ):
            flush()  # a gap or a jump to another line without a space character
        if not chars:
            box[:] = [rect.left, rect.top, rect.right, rect.bottom]
        else:
            box[:] = [
                min(box[0], rect.left),
                max(box[1], rect.top),
                max(box[2], rect.right),
                min(box[3], rect.bottom),
            ]
        chars.append(char)
    flush()
    if count > MAX_WORD_CHARS:
        out.append(textpage.get_text_range(MAX_WORD_CHARS, count - MAX_WORD_CHARS))
    return valid_unicode("".join(out)).replace("\r", ""), words


def _images(page: pdfium.PdfPage, area: float) -> tuple[bool, float]:
    """Whether the page shows an image, and the share of the page the largest covers:
    about 1 on a scanned page, whose text layer (if any) is a scanner's OCR, often garbled
    around signatures. One pass over the page's objects."""
    found, cover = False, 0.0
    for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
        found = True
        left, bottom, right, top = image.get_bounds()
        cover = max(cover, (right - left) * (top - bottom) / max(area, 1.0))
    return found, min(cover, 1.0)


def render_gray(page: pdfium.PdfPage, dpi: int, max_pixels: int) -> tuple[bytes, float]:
    """The page as a binary PGM image for OCR, and the points-per-pixel factor.

    The scale is lowered when a (hostile) page size would exceed `max_pixels`."""
    width, height = page.get_size()
    scale = dpi / 72
    if width * height * scale * scale > max_pixels:
        scale = (max_pixels / max(width * height, 1.0)) ** 0.5
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        w, h, stride = bitmap.width, bitmap.height, bitmap.stride
        buffer = bytes(bitmap.buffer)
    finally:
        bitmap.close()
    rows = (
        buffer if stride == w else b"".join(buffer[r * stride : r * stride + w] for r in range(h))
    )
    return b"P5\n%d %d\n255\n" % (w, h) + rows, 1 / scale
