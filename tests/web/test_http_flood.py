"""An idle-connection flood against the real `open287g serve` process (#23): thousands of
sockets that send nothing, from twelve loopback addresses, held open while `/healthz` and a
REST page keep answering. Before the connection limits, about 27,000 such sockets used up
the process's 20,000 descriptors in 4 s and every route failed until they timed out.

The server runs with OPEN287G_MAX_CONNECTIONS=3000 and the default per-address limit (256).
First ten addresses open 400 sockets each: 256 of each are held, the other 144 refused at
once with a 503, and the log says so. Then two more addresses open 256 each: the server
reaches 3,000 and closes the sockets that have waited longest to make room for the new
ones (and for `/healthz`), never refusing a newcomer while idle sockets hold the places."""

from __future__ import annotations

import contextlib
import functools
import logging
import resource
import selectors
import socket
import time
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy.engine import URL

from open287g.config import Settings
from open287g.web.connections import ConnectionTable, TrustedAddresses, connection_budget
from tests.support.live import start_live_server

FIRST = [f"127.0.0.{n}" for n in range(2, 12)]  # ten clients, 400 sockets each
PER_ADDRESS = 400
LATER = ["127.0.0.12", "127.0.0.13"]  # two more, each within its limit
TOTAL_LIMIT = 3000
PER_CLIENT = Settings().max_connections_per_client
SPARE_DESCRIPTORS = 512  # for the test process's own files, database and HTTP clients


@pytest.fixture
def flood_log(tmp_path: Path) -> Path:
    return tmp_path / "server.log"


def _descriptors_for_the_flood() -> int:
    """Raise this process's soft descriptor limit as far as allowed; how many sockets the
    flood may open without running this process out of descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft - len(psutil.Process().open_files()) - SPARE_DESCRIPTORS


def _open_idle(port: int, address: str) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        sock.bind((address, 0))
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    return sock


def _what_each_got(socks: list[socket.socket], seconds: float) -> dict[socket.socket, bytes]:
    """What the server sent on each socket within `seconds` (b"" for a close, absent for
    nothing at all: a socket still held open and idle)."""
    got: dict[socket.socket, bytes] = {}
    with selectors.DefaultSelector() as selector:
        for sock in socks:
            selector.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.1):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                try:
                    data = ready.recv(4096)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    data = b""
                got[ready] = got.get(ready, b"") + data
                if not data:
                    selector.unregister(ready)
    return got


def _flood(port: int, addresses: list[str], each: int) -> list[socket.socket]:
    socks = []
    for _ in range(each):
        for address in addresses:  # interleaved, as many clients at once would be
            sock = _open_idle(port, address)
            assert sock is not None, f"connecting from {address} failed"
            socks.append(sock)
    return socks


async def _healthz_and_a_page(base_url: str) -> float:
    """Ten rounds of `/healthz` and a REST page on new connections: the slowest round."""
    slowest = 0.0
    for _ in range(10):
        async with httpx.AsyncClient(base_url=base_url, timeout=5) as http:
            before = time.monotonic()
            health = await http.get("/healthz")
            page = await http.get("/v1/jurisdictions?limit=5")
            slowest = max(slowest, time.monotonic() - before)
        assert health.status_code == 200, health.text
        assert page.status_code == 200, page.text
        assert len(page.json()["data"]) == 5
    return slowest


async def test_healthz_and_a_rest_page_answer_through_an_idle_flood(
    database_url: URL, flood_log: Path
) -> None:
    wanted = len(FIRST) * PER_ADDRESS + len(LATER) * PER_CLIENT
    available = _descriptors_for_the_flood()
    assert available >= wanted, f"this process may open {available} sockets, {wanted} needed"
    with flood_log.open("wb") as log_file:
        server = await start_live_server(
            database_url,
            log=log_file,
            OPEN287G_MAX_CONNECTIONS=str(TOTAL_LIMIT),
            OPEN287G_HEADER_TIMEOUT="60",  # the flood stays until the test lets it go
        )
    process = psutil.Process(server.process.pid)
    descriptor_limit = process.rlimit(psutil.RLIMIT_NOFILE)[0]
    first: list[socket.socket] = []
    later: list[socket.socket] = []
    try:
        started = time.monotonic()
        first = _flood(server.port, FIRST, PER_ADDRESS)
        got = _what_each_got(first, seconds=1.0)
        refused = [sock for sock, data in got.items() if data.startswith(b"HTTP/1.1 503")]
        slowest_first = await _healthz_and_a_page(server.base_url)

        later = _flood(server.port, LATER, PER_CLIENT)
        seconds = time.monotonic() - started
        got_later = _what_each_got(first + later, seconds=1.0)
        closed = [s for s, data in got_later.items() if data == b"" and s not in got]
        held = len(first) + len(later) - len(got) - len(closed)
        server_descriptors = process.num_fds()
        slowest_later = await _healthz_and_a_page(server.base_url)
        assert server.process.poll() is None
    finally:
        for sock in first + later:
            sock.close()
        server.stop()

    log = flood_log.read_text()  # noqa: ASYNC240 (the server has stopped)
    print(
        f"\n{len(first) + len(later)} sockets from {len(FIRST) + len(LATER)} addresses in"
        f" {seconds:.1f} s: {len(refused)} refused (503), {len(closed)} closed to make room,"
        f" {held} held; server descriptors {server_descriptors} of {descriptor_limit};"
        f" slowest /healthz + REST page {slowest_first * 1000:.0f} ms under the first"
        f" flood, {slowest_later * 1000:.0f} ms at the total limit"
    )
    assert len(refused) == len(got) == (PER_ADDRESS - PER_CLIENT) * len(FIRST)
    assert f"more than {PER_CLIENT} open connections from your address".encode() in got[refused[0]]
    assert b"retry-after: 1" in got[refused[0]].lower()
    # The oldest idle sockets made room: for the later ones and the twenty test clients.
    admitted = PER_CLIENT * (len(FIRST) + len(LATER))
    assert admitted - TOTAL_LIMIT <= len(closed) <= admitted - TOTAL_LIMIT + 20
    assert all(s in first[: len(closed) + 20 * len(FIRST)] for s in closed)  # oldest first
    assert held >= TOTAL_LIMIT - 20
    assert server_descriptors < TOTAL_LIMIT + 300 < descriptor_limit
    assert max(slowest_first, slowest_later) < 2.0
    assert "connection limits: refused" in log
    assert "127.0.0.2 " in log


def test_the_table_makes_room_from_the_longest_waiting_and_exempts_proxies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []
    table = ConnectionTable(3, 2, TrustedAddresses("10.0.0.0/8, 192.0.2.1"))
    for name, client in (("a", "198.51.100.1"), ("b", "198.51.100.2"), ("c", "198.51.100.3")):
        assert table.admit(client) is None
        table.waiting_for_request(name, functools.partial(closed.append, name))
    table.busy("a")  # a request is being answered on "a": never closed to make room
    with caplog.at_level(logging.WARNING):
        assert table.admit("198.51.100.4") is None
    assert closed == ["b"]
    table.release("198.51.100.2")  # "b" is gone; "a", "c" and the newcomer are open
    table.busy("c")
    assert table.admit("198.51.100.5") == "the server holds its limit of 3 open connections"
    assert closed == ["b"]
    assert "closed 1 waiting connections to make room" in caplog.text
    # Per address: a third is refused, except from a trusted proxy.
    table = ConnectionTable(1000, 2, TrustedAddresses(["10.0.0.0/8", "192.0.2.1"]))
    for client, allowed in (("198.51.100.1", 2), ("10.1.2.3", 50), ("192.0.2.1", 50)):
        assert all(table.admit(client) is None for _ in range(allowed)), client
    assert table.admit("198.51.100.1") == "more than 2 open connections from your address"
    assert "198.51.100.1" in TrustedAddresses("*")
    assert "198.51.100.1" not in TrustedAddresses(None)


def test_the_budget_leaves_descriptors_for_one_accept_burst() -> None:
    assert connection_budget(10_000, backlog=2048, limit=20_000) == 10_000
    assert connection_budget(10_000, backlog=2048, limit=4096) == 4096 - 256 - 2048
    assert connection_budget(10_000, backlog=2048, limit=1024) == 1
