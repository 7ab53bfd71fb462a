"""Request size limits, checked before the app reads anything (pure ASGI).

- **Headers**: more than `MAX_HEADERS` fields, or more than OPEN287G_MAX_HEADER_BYTES of
  them, is a 431. (`open287g serve` also bounds the bytes of a request head while it is
  being read, before any of this runs: see `web/protocol.py`.)
- **Body**: a `Content-Length` over OPEN287G_MAX_BODY_BYTES is a 413 before the app reads
  a byte of the body; a chunked body (no length) is counted as it streams and refused the
  moment it passes the limit, so memory never holds more than the limit plus one chunk.

A refused body that is not much larger (at most `DISCARD_BYTES`) leaves the connection
open: the server discards its bytes as they arrive (`web/protocol.py` gives them the header
timeout), so a keep-alive client's next request is served. A larger one, or a chunked
flood, is answered with `Connection: close`: the server will not read a gigabyte to keep a
connection (the client may then see a reset instead of the 413).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.web.problems import problem_response

MAX_HEADERS = 100
DISCARD_BYTES = 1024 * 1024  # discarded as they come, never held: bandwidth, not memory
_CLOSE = {"Connection": "close"}
# In HTTP/1.x a request has a body only if it says so (Content-Length or Transfer-Encoding,
# RFC 9112 §6.3): without either there is nothing to count.
_BODY_NEEDS_A_HEADER = frozenset({"1.0", "1.1"})


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes the limit; the app's HTTPException
    handler answers it (413 problem+json), and this middleware does if nothing handled it."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class RequestLimits:
    def __init__(self, app: ASGIApp, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        header_bytes = 0
        length: bytes | None = None
        chunked = False
        for name, value in headers:  # one pass: this runs for every request
            header_bytes += len(name) + len(value) + 4
            if name == b"content-length" and length is None:
                length = value
            elif name == b"transfer-encoding":
                chunked = True
        if len(headers) > MAX_HEADERS or header_bytes > self.max_header_bytes:
            detail = (
                f"at most {MAX_HEADERS} header fields and {self.max_header_bytes} bytes of "
                f"them; got {len(headers)} fields, {header_bytes} bytes"
            )
            await problem_response(431, detail, scope["path"])(scope, receive, send)
            return
        if length is not None:
            if not length.isdigit():
                await problem_response(400, "invalid Content-Length", scope["path"])(
                    scope, receive, send
                )
                return
            if int(length) > self.max_body_bytes:
                detail = f"request body larger than {self.max_body_bytes} bytes"
                close = int(length) > DISCARD_BYTES
                refusal = problem_response(413, detail, scope["path"], _CLOSE if close else None)
                await refusal(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server stops the body at its length
            return
        if not chunked and scope.get("http_version") in _BODY_NEEDS_A_HEADER:
            await self.app(scope, receive, send)  # HTTP/1: no length, no chunks: no body
            return
        # Chunked (HTTP/1.1), or a stream (HTTP/2, no length): count as it arrives.
        await self._counting(scope, receive, send)

    async def _counting(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False
        limit = self.max_body_bytes

        async def counting_receive() -> Message:
            nonlocal received
            if received > limit:
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await problem_response(413, exc.detail, scope["path"], _CLOSE)(scope, receive, send)
