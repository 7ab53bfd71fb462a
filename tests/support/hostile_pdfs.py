"""Hostile PDFs, written byte by byte: the files a reader must survive (issue 20).

Each function returns the bytes of a small PDF that is costly or odd to read: Form
XObjects nested `depth` deep, each drawing the next ten times (10**depth draws from 3 KB);
a FlateDecode bomb (a content stream that inflates ~1000-fold); an image far larger than
its file; a page the size of a country; text outside the Basic Multilingual Plane; a page
of 150,000 distinct words; a content stream of garbage.
"""

from __future__ import annotations

import itertools
import string
import struct
import zlib
from collections.abc import Iterator, Sequence


def build(objects: Sequence[bytes]) -> bytes:
    """A PDF whose object n (from 1) is objects[n - 1]; object 1 is the catalog."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def stream(data: bytes, extra: bytes = b"", *, flate: bool = False) -> bytes:
    if flate:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _page(content_ref: int, resources: bytes, media_box: bytes = b"[0 0 612 792]") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources %s /Contents %d 0 R >>" % (
        media_box,
        resources,
        content_ref,
    )


def _one_page(content: bytes, resources: bytes, *extra: bytes, media_box: bytes = b"") -> bytes:
    """Catalog 1, pages 2, page 3, content 4, then `extra` objects from 5."""
    return build(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(4, resources, media_box or b"[0 0 612 792]"),
            content,
            *extra,
        ]
    )


DRAW_X_TEN_TIMES = b" ".join(b"q 1 0 0 1 0 %d cm /X Do Q" % i for i in range(10))


def form_chain(first: int, depth: int, last: bytes, last_resources: bytes) -> list[bytes]:
    """`depth` Form XObjects, objects `first`…: form k draws form k+1 ten times (as /X),
    the last draws `last` with `last_resources`."""
    forms = []
    for level in range(depth):
        if level == depth - 1:
            body, resources = last, last_resources
        else:
            body = b" ".join(b"q 1 0 0 1 %d 0 cm /X Do Q" % i for i in range(10))
            resources = b"<< /XObject << /X %d 0 R >> >>" % (first + level + 1)
        forms.append(
            stream(
                body, b" /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources " + resources
            )
        )
    return forms


def nested_forms(depth: int) -> bytes:
    """Form XObject k draws form k+1 ten times; the last draws a line of text and a
    rectangle. The page draws form 1 ten times: 10**depth drawings."""
    first = 5
    text = b"BT /F1 8 Tf 10 10 Td (nested) Tj ET 0 0 5 5 re f"
    forms = form_chain(first, depth, text, b"<< /Font << /F1 %d 0 R >> >>" % (first + depth))
    return _one_page(
        stream(DRAW_X_TEN_TIMES),
        b"<< /XObject << /X %d 0 R >> >>" % first,
        *forms,
        _FONT,
    )


def deflate_repeated(chunk: bytes, times: int) -> bytes:
    """zlib data that inflates to `chunk` * `times`, made in milliseconds: after a full
    flush a deflate block does not refer back, so the block for `chunk` is repeated."""
    squeeze = zlib.compressobj(9)
    head = squeeze.compress(chunk) + squeeze.flush(zlib.Z_FULL_FLUSH)
    block = squeeze.compress(chunk) + squeeze.flush(zlib.Z_FULL_FLUSH)
    check = 1
    for _ in range(times):
        check = zlib.adler32(chunk, check)
    # An empty final block (fixed Huffman codes), then the Adler-32 of all the data.
    return head + block * (times - 1) + b"\x03\x00" + struct.pack(">I", check)


def flate_bomb(megabytes: int = 800) -> bytes:
    """A page whose content stream inflates to `megabytes` MB of path operators."""
    chunk = b"0 0 m 1 1 l S\n" * 74_898  # ~1 MB
    data = deflate_repeated(chunk, megabytes)
    content = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)
    return _one_page(content + data + b"\nendstream", b"<< >>")


def image_bomb(side: int = 40_000) -> bytes:
    """A page showing one `side` x `side` gray image of zeros (1.6 GB decoded at 40,000),
    and no text: the page looks like a scan, so it is rendered for OCR."""
    data = deflate_repeated(bytes(side), side)
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
        % (side, side, len(data))
    )
    return _one_page(
        stream(b"q 612 0 0 792 0 0 cm /Im Do Q"),
        b"<< /XObject << /Im 5 0 R >> >>",
        image + data + b"\nendstream",
    )


def huge_page() -> bytes:
    """A page 14,400 inches square with a tiny image on it (a 'scan' to render)."""
    image = stream(
        bytes(64),
        b" /Type /XObject /Subtype /Image /Width 8 /Height 8"
        b" /ColorSpace /DeviceGray /BitsPerComponent 8",
    )
    return _one_page(
        stream(b"q 1036800 0 0 1036800 0 0 cm /Im Do Q"),
        b"<< /XObject << /Im 5 0 R >> >>",
        image,
        media_box=b"[0 0 1036800 1036800] /UserUnit 75000",
    )


_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Math def 1 begincodespacerange <00> <FF> endcodespacerange
2 beginbfchar <78> <D835DC65> <79> <D835DC66> endbfchar
endcmap CMapName currentdict /CMap defineresource pop end end"""


def non_bmp_text() -> bytes:
    """Math italic x and y (U+1D465, U+1D466) through a ToUnicode map, beside plain text:
    a reader that keeps UTF-16 halves would send lone surrogates to the database."""
    lines = [b"(Let ) Tj /F2 12 Tf (x) Tj /F1 12 Tf ( and ) Tj /F2 12 Tf (y) Tj"]
    lines += [b"/F1 12 Tf (be the sides of the square; this line fills the page.) Tj"] * 6
    body = b"BT /F1 12 Tf 72 700 Td 14 TL " + b" T* ".join(lines) + b" ET"
    return _one_page(
        stream(body),
        b"<< /Font << /F1 5 0 R /F2 6 0 R >> >>",
        _FONT,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 7 0 R >>",
        stream(_TO_UNICODE),
    )


def distinct_words(count: int = 150_000) -> Iterator[bytes]:
    for letters in itertools.product(string.ascii_lowercase, repeat=4):
        if count == 0:
            return
        count -= 1
        yield b"q" + "".join(letters).encode()


def many_words(count: int = 150_000) -> bytes:
    """One page with `count` distinct words in 1-point type (a tsvector over all of them
    passes PostgreSQL's 1 MB limit)."""
    per_line = 300
    words = list(distinct_words(count))
    lines = [b" ".join(words[i : i + per_line]) for i in range(0, len(words), per_line)]
    body = b"BT /F1 1 Tf 1 780 Td 1.2 TL " + b" T* ".join(b"(%s) Tj" % ln for ln in lines)
    return _one_page(stream(body + b" ET", flate=True), b"<< /Font << /F1 5 0 R >> >>", _FONT)


def broken_text() -> bytes:
    """A content stream of garbage: unbalanced operators, binary bytes, a bad string."""
    body = (
        b"BT BT /F1 12 Tf ((((( Tj ET ET ] ] >> << q q q Q Q Q Q Q 1 2 3 cm cm cm"
        + bytes(range(256)) * 20
        + b" /Nope Do (\\777\\) Tj <ZZZZ> Tj 99999999999999999999 Tf"
    )
    return _one_page(stream(body), b"<< /Font << /F1 5 0 R >> >>", _FONT)


def text_page(*lines: str) -> bytes:
    """A plain page of Helvetica text, one line per string (ASCII)."""
    shown = b" T* ".join(b"(%s) Tj" % line.encode("ascii") for line in lines)
    body = b"BT /F1 12 Tf 72 700 Td 14 TL " + shown + b" ET"
    return _one_page(stream(body), b"<< /Font << /F1 5 0 R >> >>", _FONT)


def hostile_middle_page(depth: int = 7) -> bytes:
    """Three pages of text; the middle one also draws Form XObjects nested `depth` deep."""
    text = stream(b"BT /F1 12 Tf 72 700 Td (A page of plain text, read as usual.) Tj ET")
    first_form = 9
    forms = form_chain(first_form, depth, b"0 0 5 5 re f", b"<< >>")
    resources = b"<< /Font << /F1 8 0 R >> /XObject << /X %d 0 R >> >>" % first_form
    return build(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 >>",
            _page(6, b"<< /Font << /F1 8 0 R >> >>"),
            _page(7, resources),
            _page(6, b"<< /Font << /F1 8 0 R >> >>"),
            text,
            stream(b"BT /F1 12 Tf 72 700 Td (The middle page.) Tj ET " + DRAW_X_TEN_TIMES),
            _FONT,
            *forms,
        ]
    )
