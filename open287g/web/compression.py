"""Content codings (RFC 9110 §8.4, §12.5.3): `br` or `gzip` when the client's
`Accept-Encoding` takes one, for answers worth compressing.

Negotiation: the acceptable coding with the highest `q` (an explicit `q=0` refuses one, `*`
stands for any not named), `br` before `gzip` on a tie; no header, or neither acceptable:
the identity. Compressed: 200 answers of a textual type (JSON, CSV, NDJSON, HTML, XML,
JavaScript, CSS, GraphQL SDL) of at least `MIN_BYTES`, not already encoded, never a HEAD
(it is answered like the identity GET). Every answer whose type could be compressed, and
every 304, says `Vary: Accept-Encoding`, so a shared cache keeps one copy per coding.

Validators: an ETag does not change with the coding. Data answers' ETags are weak
(`W/"version-digest"`), and RFC 9110 §8.8.1 lets a weak tag name every representation that
is semantically equivalent, which the identity, gzip and br bodies of one answer are; a
client revalidating any of them gets its 304 (`web/etags.py`: weak comparison). A strong
ETag (a shipped file) promises identical bytes, so a compressed answer weakens it, as nginx
does, rather than inventing a per-coding tag that the file's route would not recognise.

Sits inside the response cache (`app.py`), which keys entries by the negotiated coding
(`coding_tag`): a hit replays the stored compressed bytes, never compressing again. Streamed
answers (the CSV/NDJSON exports) are compressed chunk by chunk, without Content-Length.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import brotli
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_BYTES = 1024  # smaller bodies gain less than the header and the CPU they cost
GZIP_LEVEL = 6
BROTLI_QUALITY = 5  # about gzip's speed, smaller output; 11 is ~100x slower
PREFERENCE = ("br", "gzip")
MAX_REMEMBERED = 256  # distinct Accept-Encoding values remembered, then forgotten at once
COMPRESSIBLE = (
    b"text/",
    b"application/json",
    b"application/graphql-response+json",
    b"application/problem+json",
    b"application/ld+json",
    b"application/schema+json",
    b"application/x-ndjson",
    b"application/xml",
    b"application/atom+xml",
    b"application/javascript",
    b"image/svg+xml",
)
VARY = b"Accept-Encoding"

_negotiated: dict[bytes, str | None] = {}


def _parse(header: bytes) -> str | None:
    weights: dict[str, float] = {}
    for part in header.decode("latin-1").split(","):
        name, _, params = part.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        weights[name] = q
    best: str | None = None
    best_q = 0.0
    for coding in PREFERENCE:
        q = weights.get(coding, weights.get("*", 0.0))
        if q > best_q:
            best, best_q = coding, q
    return best


def negotiate(scope: Scope) -> str | None:
    """`br`, `gzip`, or None (the identity) for this request (remembered per header)."""
    if scope.get("method") == "HEAD":
        return None
    header = b""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            header = value if not header else header + b"," + value
    if not header:
        return None
    if header in _negotiated:
        return _negotiated[header]
    coding = _parse(header)
    if len(header) <= 256:
        if len(_negotiated) >= MAX_REMEMBERED:
            _negotiated.clear()
        _negotiated[header] = coding
    return coding


def coding_tag(scope: Scope) -> str:
    """What a cache key adds for the coding an answer to this request would be sent in."""
    coding = negotiate(scope)
    return f"~{coding}" if coding else ""


def compress(coding: str, body: bytes) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    return gzip.compress(body, GZIP_LEVEL, mtime=0)


class _Stream:
    """A streamed body, compressed piece by piece."""

    def __init__(self, coding: str) -> None:
        self.br: Any = brotli.Compressor(quality=BROTLI_QUALITY) if coding == "br" else None
        self.gz = None if self.br else zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)

    def piece(self, body: bytes, last: bool) -> bytes:
        if self.br is not None:
            out = bytes(self.br.process(body)) if body else b""
            return out + bytes(self.br.finish()) if last else out
        assert self.gz is not None
        out = self.gz.compress(body)
        return out + self.gz.flush() if last else out


def _compressible(headers: list[tuple[bytes, bytes]]) -> bool:
    kind = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-encoding":
            return False
        if lowered == b"content-type":
            kind = value.lower()
    return kind.startswith(COMPRESSIBLE)


def _with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    out = []
    found = False
    for name, value in headers:
        if name.lower() == b"vary":
            found = True
            names = {part.strip().lower() for part in value.split(b",")}
            if b"accept-encoding" not in names and b"*" not in names:
                value = value + b", " + VARY
        out.append((name, value))
    if not found:
        out.append((b"vary", VARY))
    return out


def _encoded(headers: list[tuple[bytes, bytes]], coding: str, length: int | None) -> list[Any]:
    out = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            continue
        if lowered == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value  # a strong tag promised these exact bytes: weakened
        out.append((name, value))
    out.append((b"content-encoding", coding.encode()))
    if length is not None:
        out.append((b"content-length", str(length).encode()))
    return out


class Compression:
    """Compresses what is worth it in the coding the request negotiated (module doc)."""

    def __init__(self, app: ASGIApp, min_bytes: int = MIN_BYTES) -> None:
        self.app = app
        self.min_bytes = min_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        coding = negotiate(scope)
        held: Message | None = None
        stream: _Stream | None = None

        async def compressing_send(message: Message) -> None:
            nonlocal held, stream
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                status = message["status"]
                if status == 304 or _compressible(headers):
                    message = {**message, "headers": _with_vary(headers)}
                if coding is None or status != 200 or not _compressible(headers):
                    await send(message)
                else:
                    held = message  # until the body says whether it is worth it
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more: bool = message.get("more_body", False)
            if held is not None:
                start, held = held, None
                assert coding is not None
                if not more:
                    if len(body) < self.min_bytes:
                        await send(start)
                        await send(message)
                        return
                    packed = compress(coding, body)
                    await send(
                        {**start, "headers": _encoded(start["headers"], coding, len(packed))}
                    )
                    await send({**message, "body": packed})
                    return
                stream = _Stream(coding)
                await send({**start, "headers": _encoded(start["headers"], coding, None)})
            if stream is not None:
                await send({**message, "body": stream.piece(body, not more)})
                return
            await send(message)

        await self.app(scope, receive, compressing_send)
