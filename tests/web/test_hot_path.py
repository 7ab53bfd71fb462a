"""The response cache's shortcuts on a hit (issue #11: a hit must cost little more than
/healthz) give the same answers as the long way round: the `query` parameter test; keys,
decoded entries and POST hashes remembered; and one data-version read shared by the
requests that find the clock stale at once. (Route labels remembered per path:
tests/web/test_http_conformance.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
from types import SimpleNamespace
from urllib.parse import parse_qsl

import orjson
import pytest
from starlette.requests import Request
from starlette.types import Message, Scope

from open287g.config import Settings
from open287g.db.queries.changes import DataVersion
from open287g.web import cache
from open287g.web import responses as http
from open287g.web.cache import MAX_KEY_CHARS, VersionClock, _asks_a_query, cache_key
from open287g.web.cache_entries import Replays, encode
from open287g.web.cache_post import (
    MAX_REMEMBERED_BODY_BYTES,
    _remembered_hash,
    _request_hash,
    request_hash,
)
from open287g.web.responses import etag_for, next_link


def http_scope(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": "GET", "path": path, "headers": headers or []}


def _parse_qsl_says(query: bytes) -> bool:
    return any(name == "query" for name, _ in parse_qsl(query.decode("latin-1")))


@pytest.mark.parametrize(
    "query",
    [
        b"",
        b"query=%7B+x+%7D",
        b"a=1&query=x",
        b"query=",
        b"query=&x=1",
        b"query",
        b"queryx=1",
        b"%71uery=x",
        b"q%75ery=1&b=2",
        b"quer+y=x",
        b"+query=x",
        b"query%3D=x",
        b"&&query=x&",
        b"xquery=1",
        b"a=query%3Dx",
        b"%ZZquery=1",
    ],
)
def test_the_query_parameter_test_agrees_with_parse_qsl(query: bytes) -> None:
    assert _asks_a_query(query) is _parse_qsl_says(query)


ENTRY = encode(
    200,
    [(b"content-type", b"application/json"), (b"etag", b'W/"7-abc"'), (b"x-data-version", b"7")],
    b'{"data":1}',
)


async def replayed(replays: Replays, value: bytes, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await replays.entry("k", value).replay(scope, send)
    return sent


async def test_a_hit_is_replayed_whole_or_as_304() -> None:
    replays = Replays()
    start, body = await replayed(replays, ENTRY, http_scope("/v1/x"))
    assert start["status"] == 200
    assert body["body"] == b'{"data":1}'
    assert (b"content-length", b"10") in start["headers"]
    assert start["headers"][-1] == (b"x-cache", b"HIT")
    tags = [(b"if-none-match", b'W/"1-zzz", W/"7-abc"')]
    start, body = await replayed(replays, ENTRY, http_scope("/v1/x", headers=tags))
    assert start["status"] == 304
    assert body["body"] == b""
    names = {name for name, _ in start["headers"]}
    assert names == {b"etag", b"x-data-version", b"x-cache"}
    other = [(b"if-none-match", b'W/"6-abc"')]
    assert (await replayed(replays, ENTRY, http_scope("/v1/x", headers=other)))[0]["status"] == 200


async def test_decoded_entries_follow_the_stored_value() -> None:
    replays = Replays()
    first = replays.entry("k", ENTRY)
    assert replays.entry("k", ENTRY) is first  # the in-process cache: the same object
    assert replays.entry("k", bytes(bytearray(ENTRY))) is first  # Redis: equal bytes
    changed = encode(200, [(b"x-data-version", b"8")], b"{}")
    assert replays.entry("k", changed).body == b"{}"
    # Outer layers add to what they are sent: the kept headers must not grow.
    scope = http_scope("/v1/x")
    sent = await replayed(replays, changed, scope)
    sent[0]["headers"].append((b"x-extra", b"1"))
    assert (await replayed(replays, changed, scope))[0]["headers"] == replays.entry(
        "k", changed
    ).headers


def test_decoded_entries_are_bounded() -> None:
    replays = Replays(max_bytes=3 * len(ENTRY))
    for i in range(10):
        replays.entry(f"k{i}", ENTRY)
        assert replays.size <= 3 * len(ENTRY)
        assert replays.size == sum(len(value) for value, _ in replays.entries.values())
    replays.entry("huge", ENTRY * 5)  # larger than the bound: answered, not kept
    assert "huge" not in replays.entries


def version(n: int) -> DataVersion:
    return DataVersion(n, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 0, None)


class Reads:
    def __init__(self) -> None:
        self.count = 0
        self.release = asyncio.Event()
        self.fail = False

    async def __call__(self) -> DataVersion:
        self.count += 1
        await self.release.wait()
        if self.fail:
            raise ConnectionRefusedError("database out")
        return version(self.count)


async def test_requests_that_find_the_clock_stale_share_one_read() -> None:
    reads = Reads()
    clock = VersionClock(reads, ttl=1.0)
    waiting = [asyncio.create_task(clock.current()) for _ in range(16)]
    await asyncio.sleep(0.01)
    waiting[0].cancel()  # one client leaves: the others' read goes on
    reads.release.set()
    results = await asyncio.gather(*waiting[1:])
    assert reads.count == 1
    assert {r.version for r in results} == {1}
    assert (await clock.current()).version == 1  # fresh now: no read at all
    assert reads.count == 1


async def test_with_no_ttl_every_request_reads_for_itself() -> None:
    reads = Reads()
    reads.release.set()
    clock = VersionClock(reads, ttl=0.0)
    await asyncio.gather(*(clock.current() for _ in range(5)))
    assert reads.count == 5


async def test_a_failed_read_reaches_its_waiters_and_is_not_kept() -> None:
    reads = Reads()
    reads.fail = True
    clock = VersionClock(reads, ttl=1.0)
    waiting = [asyncio.create_task(clock.current()) for _ in range(3)]
    await asyncio.sleep(0.01)
    reads.release.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(o, ConnectionRefusedError) for o in outcomes)
    assert reads.count == 1
    reads.fail = False
    assert (await clock.current()).version == 2  # the next request reads again


def test_post_hashes_are_remembered_for_small_bodies_only() -> None:
    body = orjson.dumps({"query": "{ programModels { code } }", "variables": {"b": 2, "a": 1}})
    assert request_hash(body) == _request_hash(body)
    assert request_hash(body) == _request_hash(
        orjson.dumps({"variables": {"a": 1, "b": 2}, "query": "{ programModels { code } }"})
    )
    hits = _remembered_hash.cache_info().hits
    assert request_hash(bytes(bytearray(body))) == _request_hash(body)  # equal bytes, new object
    assert _remembered_hash.cache_info().hits == hits + 1
    assert request_hash(b'{"query": "mutation { x }"}') is None
    large = orjson.dumps({"query": "{ x }", "variables": {"p": "x" * MAX_REMEMBERED_BODY_BYTES}})
    size = _remembered_hash.cache_info().currsize
    assert request_hash(large) == _request_hash(large)
    assert _remembered_hash.cache_info().currsize == size  # computed, not kept


def _key(version: str, path: str, query: bytes) -> str:
    return cache_key(version, {"path": path, "query_string": query})


def test_cache_keys_remembered_or_not_are_the_same() -> None:
    cache._request_parts.clear()
    long_query = b"query=" + b"%7B+x+%7D" * 100
    for query in (b"b=2&a=1", b"a=1&a=2", long_query, b"p=" + b"x" * 5000):
        first = _key("db@7", "/v1/x", query)
        assert _key("db@7", "/v1/x", query) == first  # remembered (or, if too long, again)
        assert _key("db@8", "/v1/x", query) != first  # another version, another key
        assert len(first) <= MAX_KEY_CHARS
    assert _key("db@7", "/v1/x", b"a=1&b=2") == _key("db@7", "/v1/x", b"b=2&a=1")
    assert _key("db@7", "/v1/x", b"a=1&a=2") != _key("db@7", "/v1/x", b"a=2&a=1")
    assert _key("db@7", "/v1/x", b"a=1") == "db@7:/v1/x?a=1"
    assert _key("db@7", "/graphql", long_query).startswith("db@7:sha256:")
    assert _key("db@7", "/graphql", long_query) != _key("db@7", "/graphql", long_query + b"+")
    assert (("/v1/x", b"p=" + b"x" * 5000)) not in cache._request_parts  # too long to keep
    assert len(_key("n" * 300 + "@7", "/v1/x", b"a=1")) <= MAX_KEY_CHARS


def test_remembered_cache_keys_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_REMEMBERED_REQUESTS", 10)
    for i in range(35):
        _key("db@7", f"/v1/x{i}", b"a=1")
        assert len(cache._request_parts) <= 10


def test_etags_and_next_links_are_remembered_for_short_requests_only() -> None:
    """A GraphQL GET carries its document in the query string: remembering long ones would
    let distinct 64 KB requests pin hundreds of MB. Remembered or not, the values agree."""
    version = DataVersion(7, None, 1)

    def request(path: str, query: bytes) -> Request:
        app = SimpleNamespace(state=SimpleNamespace(settings=Settings()))
        return Request({"type": "http", "path": path, "query_string": query, "app": app})

    short = request("/v1/agreements", b"limit=5&state=TX")
    long_query = b"query=" + b"%7B+x+%7D" * 2000
    long = request("/graphql", long_query)
    etag_for(short, version)
    next_link(short, "cursor", "abc")
    digests, links = http._remembered_digest.cache_info(), http._remembered_next_query.cache_info()
    assert etag_for(long, version) == etag_for(long, version)
    assert next_link(long, "cursor", "abc") == next_link(long, "cursor", "abc")
    assert http._remembered_digest.cache_info().currsize == digests.currsize  # not kept
    assert http._remembered_next_query.cache_info().currsize == links.currsize
    assert (
        etag_for(short, version)
        == f'W/"7-{http._request_digest("/v1/agreements", short.scope["query_string"])}"'
    )
    assert next_link(short, "cursor", "abc").endswith(
        '/v1/agreements?limit=5&state=TX&cursor=abc>; rel="next"'
    )
    assert http._remembered_digest.cache_info().hits > digests.hits  # the short one was kept
