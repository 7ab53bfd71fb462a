"""The attack suite (issue 10, "Show"): hostile clients on loopback against the real
server on the real data, each attack bounded in size and time.

For every attack the suite asserts that hostile input gets a 4xx (never a 5xx; a 503 with
`Retry-After` only where capacity is the point: exports beyond the limit), that the server
keeps answering `/healthz` while the attack runs, and that its memory (RSS) returns near
the baseline afterwards.

How "answers /healthz within 100 ms" is measured, robustly on a shared 2-core machine: a
fresh connection per probe, a probe every ~100 ms for the whole attack; the assertion is on
the median (under 100 ms) and on the slowest probe (under 1 s, where the issue saw 5.7 s
stalls); both are printed (`pytest -s`). Memory: the server's RSS after the attack must be
within `RSS_SLACK_MB` of the RSS measured before it (after a warm-up), given 10 s to settle.

The server runs with rate limiting off, so the attacks reach the code they target (the
rate limiter would otherwise answer many of them with 429 first).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass

import httpx
import orjson
import pytest
from sqlalchemy.engine import URL

from tests.support.database import create_database_copy, drop_database
from tests.support.hostile import leaks, median_ms, rss_mb, settle_rss, slow_reader
from tests.support.live import LiveServer, start_live_server

RSS_SLACK_MB = 40
ATTACK_SECONDS = 3.0
EXPORT = "/v1/stats/detainers?group_by=facility,month,outcome,criminality&format=ndjson"


@pytest.fixture(scope="module")
async def server(server_url: URL, loaded_template_url: URL) -> AsyncIterator[LiveServer]:
    url = await create_database_copy(server_url, loaded_template_url)
    live = await start_live_server(url, OPEN287G_RATE_LIMIT_PER_SECOND="0")
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as http:
        for _ in range(3):  # warm-up: first-use allocations are not an attack's cost
            await http.get("/v1/agreements", params={"limit": 1000})
            await http.post("/graphql", json={"query": "{ agreements(first: 100) { totalCount } }"})
            await http.get(EXPORT)
    yield live
    live.stop()
    await drop_database(server_url, url)


@dataclass
class Report:
    statuses: list[int]
    probes: list[float]
    rss_before: float
    rss_after: float

    def line(self, name: str) -> str:
        return (
            f"{name}: {len(self.statuses)} requests; /healthz median {median_ms(self.probes)} ms,"
            f" max {max(self.probes) * 1000:.0f} ms over {len(self.probes)} probes;"
            f" RSS {self.rss_before:.0f} → {self.rss_after:.0f} MB"
        )


async def under_attack(
    live: LiveServer, attack: Callable[[], Awaitable[list[int]]], seconds: float = ATTACK_SECONDS
) -> Report:
    """Repeat `attack` for `seconds` while probing /healthz; then let memory settle."""
    pid = live.process.pid
    before = rss_mb(pid)
    statuses: list[int] = []
    probes: list[float] = []
    done = asyncio.Event()

    async def attacking() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            statuses.extend(await attack())
        done.set()

    async def probing() -> None:
        async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as http:
            while not done.is_set() or not probes:
                started = time.perf_counter()
                answer = await http.get("/healthz", headers={"Connection": "close"})
                probes.append(time.perf_counter() - started)
                assert answer.status_code == 200
                await asyncio.sleep(0.1)

    await asyncio.gather(attacking(), probing())
    after = await settle_rss(pid, before, RSS_SLACK_MB)
    return Report(statuses, probes, before, after)


def assert_held(report: Report, name: str, allowed: set[int] | None = None) -> None:
    print("\n" + report.line(name))
    assert report.statuses, "the attack sent nothing"
    if allowed is None:
        assert all(400 <= s < 500 for s in report.statuses), sorted(set(report.statuses))
    else:
        assert set(report.statuses) <= allowed, sorted(set(report.statuses))
    assert median_ms(report.probes) < 100, report.line(name)
    assert max(report.probes) < 1.0, report.line(name)
    assert report.rss_after < report.rss_before + RSS_SLACK_MB, report.line(name)


def checked(answer: httpx.Response) -> int:
    """The status, after checking the body leaks nothing and does not echo a flood."""
    assert not leaks(answer.text), answer.text[:300]
    assert len(answer.content) < 4096 or answer.status_code == 200, len(answer.content)
    return answer.status_code


# --- REST: long strings and hostile parameters -------------------------------------------

LONG = "a" * 60_000  # a query string under the 64 KB head limit (longer ones are 431)

HOSTILE_REST = [
    ("/v1/agencies", {"q": LONG}),
    ("/v1/agreements", {"q": LONG}),
    ("/v1/jurisdictions", {"q": "%" * 5000}),
    ("/v1/stats/detainers", {"group_by": "state", "facility": LONG}),
    ("/v1/agreements", {"state": LONG}),
    ("/v1/agreements", {"limit": "١٠"}),  # Arabic-Indic digits
    ("/v1/agreements", {"limit": "１０"}),  # fullwidth digits
    ("/v1/agreements", {"limit": "9" * 5000}),
    ("/v1/agreements", {"limit": "1_000"}),
    ("/v1/agreements", {"limit": " 10"}),
    ("/v1/agreements", {"limit": "1e3"}),
    ("/v1/agreements", {"limit": "0"}),
    ("/v1/changes", {"since": "99999999999999999999999999"}),
    ("/v1/changes", {"since": "-1"}),
    ("/v1/agreements", {"cursor": "x" * 10_000}),
    ("/v1/agreements", {"cursor": "WyJhZ3JlZW1lbnRzOklEOkFTQyIsMSw5OTk5OTk5OTk5OTk5OTk5OTk5OTld"}),
    ("/v1/agreements", {"signed_from": "2025-13-45"}),
    ("/v1/agreements", {"signed_from": "٢٠٢٥-٠١-٠١"}),
    ("/v1/agreements", {"q": "a\x00b"}),
    ("/v1/agreements", {"state": "\x00"}),
    ("/v1/agreements", {"limit": "1\x00"}),
    ("/v1/agreements", {"format": "xml"}),
    ("/v1/agreements", {"bogus": "1"}),
    ("/v1/agreements", {"x" * 5000: "1"}),
    ("/v1/agreements", [("limit", "1"), ("limit", "2")]),
    ("/v1/agreements", [(f"p{i}", "1") for i in range(200)]),
    ("/v1/stats/agreements", {"group_by": ",".join(["state"] * 500)}),
    ("/v1/stats/agreements", {"group_by": "state;drop table agreements"}),
    ("/v1/stats/detainers", {"group_by": "citizenship", "from": "0000-01-01"}),
    ("/v1/agreements/QWdyZWVtZW50Ogo", {}),  # "Agreement:" + newline
    ("/v1/agreements/QWdyZWVtZW50OsKy", {}),  # "Agreement:²"
    ("/v1/agreements/QWdyZWVtZW50Ojk2MjMzNzIwMzY4NTQ3NzU4MDg", {}),  # "Agreement:9623…808"
    ("/v1/agreements/" + "A" * 5000, {}),
    ("/v1/agreements/%FF%FE", {}),
    ("/v1/program-models/UHJvZ3JhbU1vZGVsOicgT1IgMT0x", {}),  # "ProgramModel:' OR 1=1"
]


async def test_hostile_rest_input_is_4xx(server: LiveServer) -> None:
    async def attack() -> list[int]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            return [
                checked(await http.get(path, params=params))  # type: ignore[arg-type]
                for path, params in HOSTILE_REST
            ]

    report = await under_attack(server, attack)
    assert_held(report, "hostile REST parameters")


async def test_limit_in_other_digits_is_refused(server: LiveServer) -> None:
    """Issue 10.9: `limit=١٠` was accepted as 10."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        answer = await http.get("/v1/agreements", params={"limit": "١٠"})
    assert answer.status_code == 400
    assert "ASCII digits" in answer.json()["detail"]


# --- GraphQL: the hostile documents, bodies and arguments --------------------------


def _fan_out(levels: int = 20) -> str:
    parts = ["fragment F0 on Query { programModels { code } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)]
    return "{ ...F%d } " % (levels - 1) + " ".join(parts)  # noqa: UP031


HOSTILE_GRAPHQL: list[bytes] = [
    orjson.dumps({"query": _fan_out()}),
    orjson.dumps(
        {
            "query": "{ "
            + " ".join(
                f"a{i}: detainerStats(groupBy: [FACILITY, MONTH, CITIZENSHIP]) {{ issued }}"
                for i in range(15)
            )
            + " }"
        }
    ),
    orjson.dumps(
        {
            "query": "query($q: String) { agencies(filter: {nameContains: $q}) { totalCount } }",
            "variables": {"q": "a" * 60_000},
        }
    ),
    orjson.dumps({"query": '{ node(id: "QWdyZWVtZW50Ojk2MjMzNzIwMzY4NTQ3NzU4MDg") { id } }'}),
    orjson.dumps({"query": '{ node(id: "QWdyZWVtZW50OsKy") { id } }'}),
    orjson.dumps({"query": '{ agreements(first: 5, after: "' + "x" * 5000 + '") { totalCount } }'}),
    b"[" * 50_000 + b"]" * 50_000,
    b'"hello"',
    b"{",
    b"\x00" * 1000,
]


async def test_hostile_graphql_is_refused(server: LiveServer) -> None:
    """Issue 10.2/10.4/10.9 documents against the real server: each is refused (4xx, or a
    GraphQL error without data) while /healthz keeps answering."""

    async def attack() -> list[int]:
        found: list[int] = []
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            for body in HOSTILE_GRAPHQL:
                answer = await http.post(
                    "/graphql", content=body, headers={"Content-Type": "application/json"}
                )
                status = checked(answer)
                if status == 200:  # a GraphQL error answered in the body counts as refused
                    errors = answer.json().get("errors")
                    assert errors, answer.text[:300]
                    status = 400
                found.append(status)
        return found

    report = await under_attack(server, attack)
    assert_held(report, "hostile GraphQL")


# --- body floods ---------------------------------------------------------------------------


async def _flood(port: int, head: bytes, body: Iterable[bytes]) -> int:
    """Send `head` then `body` on a raw socket; the status the server answered with.

    A server that refuses a flood answers 413 and closes: our next writes fail and the
    kernel may then discard the answer before we read it. A connection the server closed
    before the whole body was sent counts as refused (413); one that took everything and
    answered nothing fails the test."""
    loop = asyncio.get_running_loop()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setblocking(False)
        cut_off = False
        try:
            await loop.sock_sendall(sock, head)
            for part in body:
                await loop.sock_sendall(sock, part)
        except (BrokenPipeError, ConnectionResetError):
            cut_off = True
        try:
            answer = await asyncio.wait_for(loop.sock_recv(sock, 4096), timeout=10)
        except ConnectionResetError:
            answer = b""
    if answer.startswith(b"HTTP/1.1 "):
        return int(answer.split()[1])
    assert cut_off, "the server read the whole flood and answered nothing"
    return 413


def _chunks(megabytes: int) -> Iterator[bytes]:
    chunk = b"x" * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    for _ in range(megabytes * 16):
        yield framed
    yield b"0\r\n\r\n"


FLOOD_HEAD = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


async def test_body_floods_are_refused(server: LiveServer) -> None:
    """Issue 10.4: three 16 MB chunked bodies at once and a declared 1 GB one: 413, memory
    back near its baseline (the issue saw +832 MB)."""

    async def attack() -> list[int]:
        chunked = FLOOD_HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
        declared = FLOOD_HEAD + b"Content-Length: 1000000000\r\n\r\n"
        floods = [_flood(server.port, chunked, _chunks(16)) for _ in range(3)]
        floods.append(_flood(server.port, declared, [b"{" * 65536] * 16))
        return list(await asyncio.gather(*floods))

    report = await under_attack(server, attack)
    assert_held(report, "body floods", allowed={413})


# --- exports: slow readers and many at once -------------------------------------------------


async def test_slow_export_readers(server: LiveServer) -> None:
    """Issue 10.8: 25 clients reading exports at 512 B/s; /healthz unaffected, exports past
    the limit refused with 503 at once."""
    seen: list[int] = []

    async def attack() -> list[int]:
        readers = [slow_reader(server.port, EXPORT, seconds=5, seen=seen) for _ in range(25)]
        await asyncio.gather(*readers)
        return list(seen)

    report = await under_attack(server, attack, seconds=1)
    assert_held(report, "25 slow export readers", allowed={200, 503})
    assert 503 in seen


async def test_many_concurrent_exports(server: LiveServer) -> None:
    """40 exports at once, read at full speed: each is complete (200) or refused with 503
    and Retry-After; nothing else."""

    async def one(http: httpx.AsyncClient, n: int) -> int:
        path = EXPORT if n % 2 else "/v1/agreements?format=csv"
        answer = await http.get(path, headers={"Accept-Encoding": "identity"})  # sized
        if answer.status_code == 503:
            assert int(answer.headers["retry-after"]) > 0
        elif answer.status_code == 200:
            assert len(answer.content) == int(answer.headers["content-length"])
        return checked(answer)

    async def attack() -> list[int]:
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as h:
            return list(await asyncio.gather(*(one(h, n) for n in range(40))))

    report = await under_attack(server, attack)
    assert_held(report, "40 concurrent exports", allowed={200, 503})
    assert 200 in report.statuses
    assert 503 in report.statuses
