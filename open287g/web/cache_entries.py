"""How the response cache (`web/cache.py`) stores an answer and replays it.

An entry is bytes, the same in memory and in Redis: a JSON line `[status, headers]`, then
the body. A hit is the hot path, and decoding that line and copying the body out of the
stored bytes on every hit cost about as much as the rest of the lookup; so decoded entries
are kept (`Replays`, bounded by bytes), each with the headers of its 200 and of its 304
ready, and reused while the stored value is the one they came from (the same object from
the in-process cache, equal bytes from Redis).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.types import Scope, Send

from open287g.web.etags import none_match

MAX_DECODED_BYTES = 16 * 1024 * 1024
NOT_IN_304 = frozenset(
    {b"content-type", b"content-length", b"content-disposition", b"content-encoding"}
)
HIT = (b"x-cache", b"HIT")

Headers = list[tuple[bytes, bytes]]


def encode(status: int, headers: Headers, body: bytes) -> bytes:
    head = orjson.dumps([status, [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers]])
    return head + b"\n" + body


def decode(value: bytes) -> tuple[int, Headers, bytes]:
    head, _, body = value.partition(b"\n")
    status, headers = orjson.loads(head)
    return status, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers], body


@dataclass(frozen=True, slots=True)
class Entry:
    status: int
    body: bytes
    headers: Headers  # as stored, with Content-Length and X-Cache: HIT
    not_modified: Headers  # for a 304: no body, so none of its headers either
    etag: bytes | None

    @classmethod
    def of(cls, value: bytes) -> Entry:
        status, headers, body = decode(value)
        etag = next((v for k, v in headers if k.lower() == b"etag"), None)
        return cls(
            status,
            body,
            [*headers, (b"content-length", str(len(body)).encode()), HIT],
            [*((k, v) for k, v in headers if k.lower() not in NOT_IN_304), HIT],
            etag,
        )

    def matches(self, scope: Scope) -> bool:
        """Whether the request's If-None-Match is false for this entry (a 304): weak
        comparison, `*` (`web/etags.py`)."""
        if self.etag is None:
            return False
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                return none_match(value, self.etag)
        return False

    async def replay(self, scope: Scope, send: Send) -> None:
        if self.matches(scope):
            status, headers, body = 304, self.not_modified, b""
        else:
            status, headers, body = self.status, self.headers, self.body
        # Fresh messages and lists each time: outer layers may add to what they are sent.
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        await send({"type": "http.response.body", "body": body})


class Replays:
    """Decoded entries by cache key, at most `max_bytes` of stored values (then all are
    dropped at once: the next hits decode again)."""

    def __init__(self, max_bytes: int = MAX_DECODED_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: dict[str, tuple[bytes, Entry]] = {}

    def entry(self, key: str, value: bytes) -> Entry:
        known = self.entries.get(key)
        if known is not None and (known[0] is value or known[0] == value):
            return known[1]
        entry = Entry.of(value)
        if len(value) <= self.max_bytes:
            if known is not None:
                self.size -= len(known[0])
            if self.size + len(value) > self.max_bytes:
                self.entries.clear()
                self.size = 0
            self.entries[key] = (value, entry)
            self.size += len(value)
        return entry
