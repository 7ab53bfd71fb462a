"""`open287g serve` bounds every connection, checked with raw sockets against the real
server process: request heads by size (431) and time (408), bodies by size (413, before
they are read), and a new connection that sends nothing is closed."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator

import psutil
import pytest
from sqlalchemy.engine import URL

from tests.support.live import LiveServer, start_live_server

HEADER_TIMEOUT = 2.0


@pytest.fixture(scope="module")
async def server(database_url: URL) -> AsyncIterator[LiveServer]:
    live = await start_live_server(
        database_url,
        OPEN287G_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        OPEN287G_RATE_LIMIT_PER_SECOND="0",
    )
    yield live
    live.stop()


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    return sock


def _read_all(sock: socket.socket, seconds: float = 10.0) -> bytes:
    """Everything the server sends until it closes the connection (or `seconds` pass)."""
    sock.settimeout(seconds)
    chunks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _send_ignoring_reset(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)  # the server may refuse and close early: what these tests want


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_normal_request_is_served(server: LiveServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _read_all(sock)
    assert _status(answer) == 200
    assert answer.endswith(b'{"status":"ok"}')


def test_a_one_megabyte_header_is_431(server: LiveServer) -> None:
    with _connect(server) as sock:
        _send_ignoring_reset(
            sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n"
        )
        answer = _read_all(sock)
    assert _status(answer) == 431
    assert b"application/problem+json" in answer


def test_ten_thousand_headers_are_431(server: LiveServer) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(10_000))
    with _connect(server) as sock:
        _send_ignoring_reset(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
        answer = _read_all(sock)
    assert _status(answer) == 431


def test_more_headers_than_the_app_allows_are_431(server: LiveServer) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(150))  # small: passes the server
    with _connect(server) as sock:
        sock.sendall(
            b"GET /v1/program-models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            + headers
            + b"\r\n"
        )
        answer = _read_all(sock)
    assert _status(answer) == 431
    assert b"application/problem+json" in answer


def test_a_slow_head_is_cut_off(server: LiveServer) -> None:
    """Slowloris: one header byte every 0.3 s never completes a head; the server answers
    408 and closes within the header timeout (uvicorn alone waits forever)."""
    closed_after, received = _trickle(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X")
    assert _answers(received) in ([], [408])  # a reset may come before the answer is read
    assert closed_after is not None, "the server kept a never-ending head open"
    assert closed_after < HEADER_TIMEOUT + 2


def _trickle(server: LiveServer, start: bytes, piece: bytes) -> tuple[float | None, bytes]:
    """Send `start`, then `piece` every 0.3 s until the server closes the connection (for
    at most four header timeouts): how many seconds that took (None: it never did), and
    what the server sent meanwhile."""
    started = time.monotonic()
    received = b""
    with _connect(server) as sock:
        sock.sendall(start)
        sock.settimeout(0.3)
        while time.monotonic() - started < 4 * HEADER_TIMEOUT:
            try:
                sock.sendall(piece)
                data = sock.recv(4096)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started, received
            if not data:
                return time.monotonic() - started, received
            received += data
    return None, received


def test_a_silent_connection_is_closed(server: LiveServer) -> None:
    started = time.monotonic()
    with _connect(server) as sock:
        answer = _read_all(sock, seconds=4 * HEADER_TIMEOUT)
    elapsed = time.monotonic() - started
    assert elapsed < HEADER_TIMEOUT + 2, "a connection that sends nothing stayed open"
    assert answer == b"" or _status(answer) == 408


def test_a_declared_huge_body_is_refused_before_it_is_sent(server: LiveServer) -> None:
    with _connect(server) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n"
        )
        answer = _read_all(sock, seconds=5)
    assert _status(answer) == 413
    assert b"application/problem+json" in answer
    assert b"connection: close" in answer.lower()  # the body is not waited for


def _answers(data: bytes) -> list[int]:
    """The status of every response in `data`, in order."""
    return [int(part.split(b" ", 1)[0]) for part in data.split(b"HTTP/1.1 ")[1:]]


def _head_body_then_healthz(server: LiveServer, head: bytes, body: bytes) -> bytes:
    """On one connection, as a client under load sends them: a request's head, a pause (the
    server may answer now), its body, a pause, then GET /healthz; everything answered."""
    with _connect(server) as sock:
        sock.sendall(head)
        time.sleep(0.3)
        sock.sendall(body)
        time.sleep(0.3)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return _read_all(sock)


def test_a_refused_body_just_over_the_limit_leaves_the_connection_usable(
    server: LiveServer,
) -> None:
    """A 100 KB body (over the 64 KB limit, under DISCARD_BYTES) is refused at once and
    its bytes discarded as they come: the same connection serves what follows."""
    body = b"[" * 50_000 + b"]" * 50_000
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    answer = _head_body_then_healthz(server, head, body)
    assert _answers(answer) == [413, 200], answer[:300]


def test_a_body_left_unread_is_not_counted_as_the_next_head(server: LiveServer) -> None:
    """A route that answers without reading the body (POST to GET-only /healthz: 405):
    the 100 KB of chunks that follow the answer are that request's, not the next head's
    (they were counted as head bytes: 431 and a closed connection, a ReadError for a
    keep-alive client)."""
    chunk = b"x" * 10_000
    chunks = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 10 + b"0\r\n\r\n"
    head = b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = _head_body_then_healthz(server, head, chunks)
    assert _answers(answer) == [405, 200], answer[:300]


def test_a_body_trickled_after_its_answer_is_cut_off(server: LiveServer) -> None:
    """The rest of an answered request's body must come within the header timeout: a client
    cannot hold the connection by sending it a byte at a time."""
    head = b"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    closed_after, received = _trickle(server, head, b"1\r\nx\r\n")
    assert _answers(received) == [405]
    assert closed_after is not None, "a body trickled after its answer held the connection"
    assert closed_after < HEADER_TIMEOUT + 2


def test_a_chunked_flood_is_refused_without_growing_the_server(server: LiveServer) -> None:
    process = psutil.Process(server.process.pid)
    before = process.memory_info().rss
    chunk = b"x" * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    with _connect(server) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        sock.settimeout(10)
        for _ in range(1000):  # up to 64 MB
            try:
                sock.sendall(framed)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
        answer = _read_all(sock, seconds=5)
    assert _status(answer) == 413
    assert process.memory_info().rss - before < 30 * 1024 * 1024
