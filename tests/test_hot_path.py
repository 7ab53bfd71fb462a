"""The response cache's shortcuts on a hit (issue #11: a hit must cost little more than
/healthz) give the same answers as the long way round: the `query` parameter test and
decoded entries reused. (Route labels remembered per path: tests/test_http_conformance.py.)"""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from starlette.types import Message, Scope

from open287g.api.cache import _asks_a_query
from open287g.api.cache_entries import Replays, encode


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
