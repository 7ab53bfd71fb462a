"""Benchmark: the real server (`open287g serve`, one worker) on the 54 shared ICE snapshots.

Measures requests/s of `/healthz` (the framework floor) and of the GraphQL page of issue #5
(100 agreements with agency and jurisdiction, uncached), in the same run, with wrk when it
is installed (`apt-get install wrk`), otherwise with a slower httpx client (then the
numbers are the client's ceiling as much as the server's: compare ratios only).

    python -m load_tests.bench_http [SECONDS]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlencode

import httpx

from load_tests.bench_ice_load import DEFAULT_FOLDER, scratch_database
from load_tests.server import free_port, start_server, wait_ready
from open287g.config import get_settings
from open287g.db.session import make_engine
from open287g.loaders.ice287g.load import load_sources, plan_sources

PAGE_QUERY = (
    "{ agreements(first: 100) { edges { node { id status signedOn moaUrl firstSeen lastSeen"
    " model { code } agency { id name type jurisdiction { id name kind stateCode } } } } } }"
)
CONNECTIONS = 16


def _unused() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wrk(url: str, seconds: int) -> float:
    out = subprocess.run(  # noqa: S603
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", url],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(found[1]) if found else 0.0


async def _httpx(url: str, seconds: int) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(timeout=30) as http:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await http.get(url)
                response.raise_for_status()
                done += 1

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return done / seconds


async def _measure(
    env: dict[str, str], targets: dict[str, str], seconds: int, tool: str
) -> dict[str, float]:
    """Start a server with `env`, check it answers, and load each target in turn."""
    port = free_port()
    server = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base)
        async with httpx.AsyncClient() as http:
            check = await http.get(base + targets["graphql page of 100"])
            assert len(check.json()["data"]["agreements"]["edges"]) == 100
        results = {}
        for name, path in targets.items():
            if tool == "wrk":
                results[name] = await asyncio.to_thread(_wrk, base + path, seconds)
            else:
                results[name] = await _httpx(base + path, seconds)
        return results
    finally:
        server.terminate()
        server.wait(timeout=10)


async def main(seconds: int) -> None:
    tool = "wrk" if shutil.which("wrk") else "httpx"
    page = "/graphql?" + urlencode({"query": PAGE_QUERY})
    targets = {
        "/healthz": "/healthz",
        "graphql page of 100": page,
        "rest page of 100": "/v1/agreements?limit=100",
    }
    async with scratch_database() as url:
        engine = make_engine(url, pool_size=2)
        await load_sources(engine, plan_sources([str(DEFAULT_FOLDER)]), get_settings())
        await engine.dispose()
        env = dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False))
        uncached = await _measure(
            {**env, "OPEN287G_RESPONSE_CACHE": "false"}, targets, seconds, tool
        )
        cached = await _measure({**env, "OPEN287G_RESPONSE_CACHE": "true"}, targets, seconds, tool)
    print(f"HTTP ({tool}, {CONNECTIONS} connections, {seconds} s each, one server worker):")
    floor = uncached["/healthz"]
    for name in targets:
        print(
            f"  {name:<22} uncached {uncached[name]:>9,.0f} req/s"
            f" ({uncached[name] / floor:.3f} of the floor);"
            f" cached {cached[name]:>9,.0f} req/s"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
