"""Tools the fault and attack tests share: a mixed REST + GraphQL load that records every
outcome, a slow socket reader, /healthz probes and the server's memory.

Everything talks to a real served process over loopback; nothing here is a mock.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

import httpx
import psutil

# Words a driver or server error would carry; none may reach a client.
LEAKS = (
    "asyncpg",
    "sqlalchemy",
    "psycopg",
    "postgres",
    "shutting down",
    "connection is closed",
    "errno",
    "traceback",
    "no such file",
)

GRAPHQL_PAGE = "{ agreements(first: 5) { edges { node { id status agency { name } } } } }"


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [word for word in LEAKS if word in lowered]


@dataclass(frozen=True)
class Outcome:
    kind: str  # "rest", "graphql", "ready"
    started: float
    ended: float
    status: int | None  # None: no response (the connection dropped or was refused)
    error: str | None = None  # the transport error's class name
    retry_after: str | None = None
    leaked: tuple[str, ...] = ()


@dataclass
class Load:
    """Workers sending requests in a loop until `stop` is set; every outcome recorded."""

    base_url: str
    outcomes: list[Outcome] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _one(self, http: httpx.AsyncClient, kind: str, n: int) -> None:
        started = time.monotonic()
        try:
            if kind == "graphql":
                response = await http.post("/graphql", json={"query": GRAPHQL_PAGE})
            elif kind == "ready":
                response = await http.get("/readyz")
            else:  # distinct limits: a cache hit would not reach the database
                response = await http.get("/v1/agreements", params={"limit": 1 + n % 50})
        except httpx.TransportError as exc:
            self.outcomes.append(Outcome(kind, started, time.monotonic(), None, type(exc).__name__))
            return
        self.outcomes.append(
            Outcome(
                kind,
                started,
                time.monotonic(),
                response.status_code,
                retry_after=response.headers.get("retry-after"),
                leaked=tuple(leaks(response.text)),
            )
        )

    async def worker(self, kind: str, pause: float = 0.01) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        timeout = httpx.Timeout(10.0)
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=timeout) as h:
            n = 0
            while not self.stop.is_set():
                await self._one(h, kind, n)
                n += 1
                await asyncio.sleep(pause)

    def start(self, kinds: dict[str, int]) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(self.worker(kind, 0.1 if kind == "ready" else 0.01))
            for kind, count in kinds.items()
            for _ in range(count)
        ]


async def slow_reader(
    port: int, path: str, seconds: float, rate: int = 512, seen: list[int] | None = None
) -> tuple[int | None, int]:
    """GET `path` over a socket with a 4 KB receive buffer, reading `rate` bytes a second
    for `seconds`; returns (status, bytes read), and appends the status to `seen` as soon as
    it arrives. A hostile client that ties up a response."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: attacker\r\n\r\n".encode())
    await writer.drain()
    status: int | None = None
    received = 0
    deadline = time.monotonic() + seconds
    try:
        line = await asyncio.wait_for(reader.readline(), timeout=seconds)
        parts = line.split()
        status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None
        if seen is not None and status is not None:
            seen.append(status)
        while time.monotonic() < deadline:
            chunk = await asyncio.wait_for(reader.read(rate), timeout=seconds)
            if not chunk:
                break
            received += len(chunk)
            await asyncio.sleep(1)
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()
    return status, received


async def healthz_latencies(base_url: str, probes: int = 5, pause: float = 0.05) -> list[float]:
    """Seconds each of `probes` fresh /healthz requests took (new connection each)."""
    found: list[float] = []
    for _ in range(probes):
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            started = time.perf_counter()
            response = await http.get("/healthz")
            found.append(time.perf_counter() - started)
            assert response.status_code == 200
        await asyncio.sleep(pause)
    return found


async def probing(
    base_url: str, attack: Awaitable[object], settle: float = 0.3
) -> tuple[object, list[float]]:
    """Run `attack` and probe /healthz while it runs; (its result, probe latencies)."""
    task = asyncio.ensure_future(attack)
    await asyncio.sleep(settle)
    latencies: list[float] = []
    while not task.done() or not latencies:
        latencies += await healthz_latencies(base_url, probes=1, pause=0.1)
    return await task, latencies


def median_ms(latencies: list[float]) -> float:
    return round(statistics.median(latencies) * 1000, 1)


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


async def settle_rss(pid: int, baseline: float, slack_mb: float, seconds: float = 10) -> float:
    """The server's RSS once it is back within `slack_mb` of `baseline` (or after
    `seconds`): memory freed after an attack may take a moment to be returned."""
    deadline = time.monotonic() + seconds
    current = rss_mb(pid)
    while current > baseline + slack_mb and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        current = rss_mb(pid)
    return current
