"""The response cache: one layer, keyed to the data version, in front of /v1 and GET
/graphql. A load bumps the data version, so entries never need invalidating: new keys
simply stop matching old ones, and old entries age out (LRU in process, TTL in Redis).

Pure ASGI (no BaseHTTPMiddleware), so a hit costs about what a framework "hello" costs.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_ENTRY_BYTES = 2 * 1024 * 1024
ENTRY_TTL_SECONDS = 24 * 3600


class ResponseCache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes) -> None: ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """Per process, LRU, bounded by total bytes."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()

    async def get(self, key: str) -> bytes | None:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes) -> None:
        old = self.entries.pop(key, None)
        self.size += len(value) - (len(old) if old else 0)
        self.entries[key] = value
        while self.size > self.max_bytes and self.entries:
            _, evicted = self.entries.popitem(last=False)
            self.size -= len(evicted)

    async def aclose(self) -> None:
        self.entries.clear()
        self.size = 0


class RedisCache:
    """Shared by every API process (REDIS_URL)."""

    def __init__(self, url: str, prefix: str = "open287g:") -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url)
        self.prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self.client.get(self.prefix + key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes) -> None:
        await self.client.set(self.prefix + key, value, ex=ENTRY_TTL_SECONDS)

    async def aclose(self) -> None:
        await self.client.aclose(close_connection_pool=True)


class VersionClock:
    """The data version, re-read at most every `ttl` seconds (OPEN287G_VERSION_CHECK_SECONDS):
    responses after a load are fresh within that time, at one cheap query per interval."""

    def __init__(self, read: Callable[[], Awaitable[int]], ttl: float) -> None:
        self.read = read
        self.ttl = ttl
        self.value = -1
        self.read_at = 0.0

    async def current(self) -> int:
        now = time.monotonic()
        if now - self.read_at >= self.ttl:
            self.value = await self.read()
            self.read_at = now
        return self.value


def _cacheable(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    path: str = scope["path"]
    if not (path.startswith("/v1/") or path == "/graphql"):
        return False
    if any(name == b"if-modified-since" for name, _ in scope["headers"]):
        return False  # rare; the route answers it (If-None-Match is answered from cache)
    query: bytes = scope["query_string"]
    return (
        b"format=csv" not in query
        and b"format=ndjson" not in query
        and (path != "/graphql" or b"query=" in query)
    )


def _encode(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    head = orjson.dumps([status, [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers]])
    return head + b"\n" + body


def _decode(value: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    head, _, body = value.partition(b"\n")
    status, headers = orjson.loads(head)
    return status, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers], body


class ResponseCacheMiddleware:
    def __init__(
        self, app: ASGIApp, cache: ResponseCache, version: Callable[[Scope], Awaitable[str]]
    ) -> None:
        self.app = app
        self.cache = cache
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _cacheable(scope):
            await self.app(scope, receive, send)
            return
        query = scope["query_string"].decode("latin-1")
        params = "&".join(sorted(query.split("&")))
        key = f"{await self.version(scope)}:{scope['path']}?{params}"
        cached = await self.cache.get(key)
        if cached is not None:
            await self._replay(scope, send, cached)
            return
        start: Message = {}
        chunks: list[bytes] = []
        size = 0
        keep = True

        async def capture(message: Message) -> None:
            nonlocal size, keep, start
            if message["type"] == "http.response.start":
                start = message
                keep = message["status"] == 200
            elif message["type"] == "http.response.body" and keep:
                body = message.get("body", b"")
                size += len(body)
                if size > MAX_ENTRY_BYTES:
                    keep = False
                else:
                    chunks.append(body)
                if not message.get("more_body", False) and keep:
                    headers = [
                        (k, v) for k, v in start["headers"] if k.lower() != b"content-length"
                    ]
                    await self.cache.set(key, _encode(start["status"], headers, b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, capture)

    async def _replay(self, scope: Scope, send: Send, cached: bytes) -> None:
        status, headers, body = _decode(cached)
        etag = next((v for k, v in headers if k.lower() == b"etag"), None)
        request_tags = Headers(scope=scope).get("if-none-match")
        if (
            etag is not None
            and request_tags is not None
            and (etag.decode("latin-1") in {t.strip() for t in request_tags.split(",")})
        ):
            status, body = 304, b""
        headers = [*headers, (b"x-cache", b"HIT"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
