"""The response cache: one layer, keyed to the data version, in front of /v1, the pages
and /graphql (GET, and POST: `web/cache_post.py`). A load bumps the data version, so
entries never need invalidating: new keys simply stop matching old ones, and old entries
age out (LRU in process, TTL in Redis).

Pure ASGI (no BaseHTTPMiddleware), so a hit costs about what a framework "hello" costs.

What is stored is only what the app answers for (path, query, data version): CORS,
security and rate-limit headers are per request and are added by middleware OUTSIDE this
one (see the order in `app.py`), so a hit is as right for a browser as a miss.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Protocol
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.db.queries.changes import DataVersion
from open287g.web.breaker import RedisLink
from open287g.web.cache_entries import Replays, encode
from open287g.web.cache_post import (
    is_graphql_post,
    post_key,
    read_body,
    replaying,
    request_hash,
    stored_headers,
)
from open287g.web.compression import coding_tag

MAX_ENTRY_BYTES = 2 * 1024 * 1024
ENTRY_TTL_SECONDS = 24 * 3600
MAX_KEY_CHARS = 200  # longer keys are replaced by their sha256: a key costs at most this
MAX_PART_CHARS = 128  # a longer path and query are keyed by their sha256
MAX_REMEMBERED_REQUESTS = 4096  # request parts of keys remembered, then forgotten at once
MAX_REMEMBERED_REQUEST_CHARS = 2048  # so they hold at most about 8 MiB
ENTRY_OVERHEAD_BYTES = 200  # dict slot, OrderedDict links and two object headers, roughly
FLIGHT_SECONDS = 30  # a miss being computed elsewhere is waited for at most this long
FLIGHT_POLL_SECONDS = 0.02  # how often a waiter on another process's miss looks again


_request_parts: dict[tuple[str, bytes], str] = {}


class ResponseCache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes) -> None: ...

    async def claim(self, key: str) -> bool:
        """Whether this process may compute `key` now (False: another process is)."""
        ...

    async def unclaim(self, key: str) -> None: ...

    def status(self) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """Per process, LRU, bounded by total bytes: values, keys and a per-entry overhead all
    count, so many small entries with long keys cannot outgrow the bound either."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()

    @staticmethod
    def cost(key: str, value: bytes) -> int:
        return len(key) + len(value) + ENTRY_OVERHEAD_BYTES

    async def get(self, key: str) -> bytes | None:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes) -> None:
        if self.cost(key, value) > self.max_bytes:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.size -= self.cost(key, old)
        self.size += self.cost(key, value)
        self.entries[key] = value
        while self.size > self.max_bytes and self.entries:
            evicted_key, evicted = self.entries.popitem(last=False)
            self.size -= self.cost(evicted_key, evicted)

    def status(self) -> dict[str, Any]:
        return {"backend": "memory", "state": "ok", "entries": len(self.entries)}

    async def claim(self, key: str) -> bool:
        return True  # one process: the middleware's in-process flights suffice

    async def unclaim(self, key: str) -> None:
        return None

    async def aclose(self) -> None:
        self.entries.clear()
        self.size = 0


class RedisCache:
    """Shared by every API process (REDIS_URL). A Redis outage is a miss, never an error:
    `RedisLink` returns None while Redis is out and retries it every few seconds."""

    def __init__(self, link: RedisLink, prefix: str = "open287g:") -> None:
        self.link = link
        self.prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self.link.call(lambda client: client.get(self.prefix + key))
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes) -> None:
        await self.link.call(
            lambda client: client.set(self.prefix + key, value, ex=ENTRY_TTL_SECONDS)
        )

    async def claim(self, key: str) -> bool:
        """SET NX with a short expiry: one process computes a key at a time; the claim
        lapses by itself if its holder dies. Redis out: claimed (compute, as uncached)."""
        taken = await self.link.call(
            lambda client: client.set(
                self.prefix + "flight:" + key, b"1", nx=True, ex=FLIGHT_SECONDS
            )
        )
        return bool(taken) or self.link.status()["state"] != "ok"

    async def unclaim(self, key: str) -> None:
        await self.link.call(lambda client: client.delete(self.prefix + "flight:" + key))

    def status(self) -> dict[str, Any]:
        return self.link.status()

    async def aclose(self) -> None:
        await self.link.aclose()


class VersionClock:
    """The data version lookups are keyed to, re-read at most every `ttl` seconds
    (OPEN287G_VERSION_CHECK_SECONDS), at one cheap query per interval, and at once when:

    - the primary announced a newer version (`announce`, from LISTEN/NOTIFY): re-read every
      `CATCH_UP_SECONDS` until the read engine (a replica may lag) has replayed it;
    - reads moved to another server (`source`, the replica or the primary after a failover).

    The clock only chooses which cached answer to look up. What an answer *is* never comes
    from it: each response carries the version its own reads saw (X-Data-Version) and is
    stored under that one, so a clock ahead of the data can never file older data under a
    newer version.

    One read at a time: requests that find the clock stale within `CATCH_UP_SECONDS` of a
    read's start (and `ttl`: with 0, never) wait for that read rather than each starting
    their own (16 connections made 16 reads of every expiry)."""

    CATCH_UP_SECONDS = 0.05

    def __init__(
        self,
        read: Callable[[], Awaitable[DataVersion]],
        ttl: float,
        source: Callable[[], object] = lambda: None,
    ) -> None:
        self.read = read
        self.ttl = ttl
        self.source = source
        self.value: DataVersion | None = None
        self.value_source: object = None
        self.read_at = 0.0
        self.target = 0  # the newest version the primary announced
        self.reading: tuple[asyncio.Task[DataVersion], object, float] | None = None

    def announce(self, version: int) -> None:
        self.target = max(self.target, version)

    def _stale(self, now: float) -> bool:
        if self.value is None or self.value_source is not self.source():
            return True
        age = now - self.read_at
        return age >= self.ttl or (
            self.value.version < self.target and age >= self.CATCH_UP_SECONDS
        )

    async def current(self) -> DataVersion:
        now = time.monotonic()
        if not self._stale(now):
            assert self.value is not None
            return self.value
        source = self.source()
        reading = self.reading
        if (
            reading is None
            or reading[1] is not source
            or now - reading[2] >= min(self.ttl, self.CATCH_UP_SECONDS)
        ):
            task = asyncio.ensure_future(self.read())
            reading = self.reading = (task, source, now)
            task.add_done_callback(partial(self._done, reading))
        # Shielded: a request cancelled (its client left) must not cancel the others' read.
        value = await asyncio.shield(reading[0])
        if self.read_at <= reading[2]:
            self.value, self.value_source, self.read_at = value, source, reading[2]
        return value

    def _done(
        self, reading: tuple[asyncio.Task[DataVersion], object, float], task: asyncio.Task[Any]
    ) -> None:
        if self.reading is reading:
            self.reading = None
        if not task.cancelled():
            task.exception()  # retrieved: its waiters (if any are left) got it

    def observe(self, version: DataVersion, source: object) -> None:
        """A version a request read on `source` (newer than the clock's: take it)."""
        if (
            self.value is not None
            and source is self.value_source
            and version.version > self.value.version
        ):
            self.value, self.read_at = version, time.monotonic()

    def known(self, source: object) -> DataVersion | None:
        """The last version read from `source`, without reading (None if none is known)."""
        return self.value if source is self.value_source else None


def _asks_a_query(query: bytes) -> bool:
    """Whether the query string has a non-empty `query` parameter, read as `parse_qsl`
    reads it (a name may be percent- or plus-encoded), without decoding every value."""
    if query.startswith(b"query=") and len(query) > 6 and query[6:7] != b"&":
        return True
    for part in query.split(b"&"):
        name, equals, value = part.partition(b"=")
        if equals and value:
            if name == b"query":
                return True
            if (b"%" in name or b"+" in name) and unquote_plus(name.decode("latin-1")) == "query":
                return True
    return False


def _cacheable(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    path: str = scope["path"]
    graphql = path == "/graphql"
    # The HTML pages (open287g/pages/) are data answers too: cached like /v1.
    if not (graphql or path == "/" or path.startswith(("/v1/", "/states/", "/agencies/"))):
        return False
    if path == "/v1/quality":
        return False  # it reports quarantined files, which change no data version
    for name, value in scope["headers"]:
        if name == b"if-modified-since":
            return False  # rare; the route answers it (If-None-Match is answered from cache)
        # GET /graphql answers a browser (Accept: text/html) with the GraphiQL page, query
        # or not, and a request without `query` with the page or an error: only API answers
        # to real queries are cached, so the key need not include Accept.
        if graphql and name == b"accept" and b"text/html" in value:
            return False
    query: bytes = scope["query_string"]
    if b"format=csv" in query or b"format=ndjson" in query:
        return False
    return not graphql or _asks_a_query(query)


def _request_part(path: str, query_string: bytes) -> str:
    """`path?query` with the parameters sorted (order does not change an answer) unless a
    name is repeated (then the last one may win, so order matters); hashed when long."""
    parts = query_string.decode("latin-1").split("&")
    names = [part.partition("=")[0] for part in parts]
    query = "&".join(sorted(parts) if len(set(names)) == len(names) else parts)
    part = f"{path}?{query}"
    if len(part) > MAX_PART_CHARS:
        part = "sha256:" + hashlib.sha256(part.encode("utf-8", "surrogateescape")).hexdigest()
    return part


def cache_key(version: str, scope: Scope) -> str:
    """Everything a cached answer depends on: the data version (and database), the path and
    the query. Nothing else in the request changes what the app answers: absolute links
    come from OPEN287G_PUBLIC_URL, never from Host, and CORS, security and rate-limit
    headers are added outside the cache. The request's part is remembered per raw path and
    query (sorting and hashing them again on every hit cost as much as the lookup)."""
    path: str = scope["path"]
    query: bytes = scope["query_string"]
    part = _request_parts.get((path, query))
    if part is None:
        part = _request_part(path, query)
        if len(path) + len(query) <= MAX_REMEMBERED_REQUEST_CHARS:
            if len(_request_parts) >= MAX_REMEMBERED_REQUESTS:
                _request_parts.clear()
            _request_parts[(path, query)] = part
    key = f"{version}:{part}"
    if len(key) > MAX_KEY_CHARS:  # only with a very long namespace
        key = "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
    return key


def _data_version(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"x-data-version":
            return value.decode("latin-1")
    return None


class ResponseCacheMiddleware:
    """Looks answers up under the clock's version; stores each fresh answer under the
    version its own reads saw (its X-Data-Version; none: not stored). `namespace` names
    the deployment (the primary's host and database: a replica serves the same data at
    the same version), since several may share one Redis."""

    def __init__(
        self,
        app: ASGIApp,
        cache: ResponseCache,
        version: Callable[[], Awaitable[DataVersion]],
        namespace: str,
    ) -> None:
        self.app = app
        self.cache = cache
        self.version = version
        self.namespace = namespace
        self.replays = Replays()
        self.flights: dict[str, asyncio.Future[None]] = {}  # misses being computed here

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key: Callable[[str], str]
        if is_graphql_post(scope):  # its body, read and replayed: `web/cache_post.py`
            messages, body = await read_body(receive)
            receive = replaying(messages, receive)
            digest = request_hash(body) if body is not None else None
            if digest is None:
                await self.app(scope, receive, send)
                return
            key = partial(post_key, digest=digest)
        elif _cacheable(scope):
            key = partial(cache_key, scope=scope)
        else:
            await self.app(scope, receive, send)
            return
        try:
            version = (await self.version()).version
        except Exception:  # database out: the route answers (503), uncached
            await self.app(scope, receive, send)
            return
        coding = coding_tag(scope)  # one entry per content coding (`web/compression.py`)
        found = key(f"{self.namespace}@{version}{coding}")
        cached = await self.cache.get(found)
        flight = self.flights.get(found)
        if cached is None and flight is not None:  # computed here already: wait for it
            cached = await self._landed(flight, found)
        if cached is not None:
            await self.replays.entry(found, cached).replay(scope, send)
            return
        if flight is not None:  # its answer was not stored: compute, without a flight
            await self._compute(scope, receive, send, key, None)
            return
        landed = asyncio.get_running_loop().create_future()
        self.flights[found] = landed  # no await since the look-up: one flight per key
        claimed = False
        try:
            claimed, cached = await self._claim(found)
            if cached is not None:
                await self.replays.entry(found, cached).replay(scope, send)
                return
            await self._compute(scope, receive, send, key, landed)
        finally:
            del self.flights[found]
            if not landed.done():
                landed.set_result(None)
            if claimed:
                await self.cache.unclaim(found)

    async def _landed(self, flight: asyncio.Future[None], found: str) -> bytes | None:
        """Single flight in process: wait for the miss being computed, then read it."""
        try:
            await asyncio.wait_for(asyncio.shield(flight), FLIGHT_SECONDS)
        except TimeoutError:
            return None
        return await self.cache.get(found)

    async def _claim(self, found: str) -> tuple[bool, bytes | None]:
        """Single flight across processes (Redis): (claimed, the answer another process
        stored while this one waited for its claim). Gives up waiting after
        FLIGHT_SECONDS and computes unclaimed."""
        deadline = time.monotonic() + FLIGHT_SECONDS
        while not await self.cache.claim(found):
            if time.monotonic() > deadline:
                return False, None
            await asyncio.sleep(FLIGHT_POLL_SECONDS)
            cached = await self.cache.get(found)
            if cached is not None:
                return False, cached
        return True, None

    async def _compute(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key: Callable[[str], str],
        landed: asyncio.Future[None] | None,
    ) -> None:
        """Run the app, storing a fresh 200 under the version its reads saw; `landed` is
        resolved as soon as waiters can look (stored, or known not to be)."""
        coding = coding_tag(scope)
        start: Message = {}
        chunks: list[bytes] = []
        size = 0
        keep = True

        async def capture(message: Message) -> None:
            nonlocal size, keep, start
            if message["type"] == "http.response.start":
                start = message
                keep = message["status"] == 200
                if not keep and landed is not None and not landed.done():
                    landed.set_result(None)  # nothing will be stored: waiters compute
            elif message["type"] == "http.response.body" and keep:
                body = message.get("body", b"")
                size += len(body)
                if size > MAX_ENTRY_BYTES:
                    keep = False
                    if landed is not None and not landed.done():
                        landed.set_result(None)
                else:
                    chunks.append(body)
                read_at = _data_version(start["headers"])
                if not message.get("more_body", False) and keep and read_at is not None:
                    headers = (
                        stored_headers(start["headers"])
                        if scope["method"] == "POST"
                        else [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                    )
                    await self.cache.set(
                        key(f"{self.namespace}@{read_at}{coding}"),
                        encode(start["status"], headers, b"".join(chunks)),
                    )
                    if landed is not None and not landed.done():
                        landed.set_result(None)
            await send(message)

        await self.app(scope, receive, capture)
