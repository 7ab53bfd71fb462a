"""Helpers every benchmark shares: the real server on a free loopback port, waiting for it,
and synthetic detainer files from the shared generator."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy.engine import URL

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GENERATOR = PROJECT_ROOT.parent / "shared" / "tools" / "make_detainers.py"


BROWSER_SAFE_FROM = 10081  # above every port in the Fetch standard's bad-port list


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A loopback port nothing listens on, drawn below the kernel's ephemeral range.

    A port the kernel hands out (bind to 0) can be handed out again, as the local end of any
    outgoing connection, before the server we start binds it; CI lost a Redis start that way
    ("redis-server did not start" on port 58045). Ports below the ephemeral range are only
    ever taken by a listener, so a free one stays free. The draw starts above 10080, the
    highest of the ports browsers refuse to fetch from (the Fetch standard's "bad ports":
    a browser test's server drawn on 1723 never loaded).
    """
    low, _ = _ephemeral_range()
    top = max(BROWSER_SAFE_FROM + 1024, min(low, 32768)) - 1
    for _ in range(200):
        port = random.randint(BROWSER_SAFE_FROM, top)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def start_server(
    env: dict[str, str],
    port: int,
    stderr: IO[bytes] | None = None,
    log_level: str = "warning",
) -> subprocess.Popen[bytes]:
    """`open287g serve` (one worker) on 127.0.0.1:`port`, its log to `stderr` (default:
    ours); the caller terminates it. At the default `warning` no request is logged; `info`
    (serve's default) writes the access log."""
    command = [
        sys.executable,
        "-m",
        "open287g",
        "serve",
        "--port",
        str(port),
        "--log-level",
        log_level,
    ]
    # Benchmarks and test clients send far more than one person would, from one address:
    # no rate limit unless the caller sets one.
    env = {"OPEN287G_RATE_LIMIT_PER_SECOND": "0", **env}
    return subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stderr=stderr)  # noqa: S603


def database_env(url: URL, **extra: str) -> dict[str, str]:
    """Our environment with DATABASE_URL naming `url`, and `extra` variables."""
    return dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False), **extra)


@asynccontextmanager
async def serving(env: dict[str, str]) -> AsyncIterator[tuple[str, subprocess.Popen[bytes]]]:
    """`open287g serve` with `env` on a free port, once ready: (its base URL, its process);
    terminated on the way out."""
    port = free_port()
    server = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=10)


async def wait_ready(base: str, seconds: float = 15.0) -> None:
    """Until `/readyz` answers 200; otherwise an error saying what it last answered (a
    server that cannot reach PostgreSQL, e.g. with every connection slot taken by other
    work on the machine, answers 503 with the reason)."""
    last = "no answer"
    async with httpx.AsyncClient() as http:
        for _ in range(int(seconds * 10)):
            try:
                answer = await http.get(f"{base}/readyz")
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text[:300]}"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not become ready within {seconds} s (last: {last})")


def generate_detainers(path: Path, rows: int) -> Path:
    """A synthetic release (invented data) in the real CSV layout."""
    subprocess.run(  # noqa: S603
        [sys.executable, str(GENERATOR), "--rows", str(rows), "-o", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def run_on_release(bench: Callable[[Path], Coroutine[Any, Any, None]]) -> None:
    """`python -m load_tests.bench_… [ROWS]`: `bench` on a synthetic release of ROWS rows
    (default 400,000) in a temporary folder."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(bench(generate_detainers(Path(folder) / "detainers.csv", rows)))
