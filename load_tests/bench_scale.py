"""Benchmark (#15): requests/s of one API process, of two, and of two reading a replica.

A PostgreSQL primary and a streaming replica from the embedded binaries
(`load_tests/replication.py`), the 54 shared ICE snapshots loaded on the primary before
the replica is copied from it. Then, for the REST page `/v1/agreements?limit=100`, once
with the response cache off (every request reads PostgreSQL) and once with it on (each
process's in-memory cache; no Redis):

  (a) one `open287g serve` process on the primary;
  (b) two processes on the primary;
  (c) the same two processes with DATABASE_REPLICA_URL on the replica.

There is no load balancer: one `wrk -t1 -c16` per process, all at the same time, summed.
Each measurement follows a short warm-up run. Rate limiting is off (load_tests/server.py).
Prints a table with each configuration's ratio to the one-process figure.

    python -m load_tests.bench_scale [SECONDS] [FOLDER]

Needs wrk (`apt-get install wrk`): a Python client would be the bottleneck, not the server.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from load_tests.bench_ice_load import DEFAULT_FOLDER
from load_tests.replication import Cluster, add_replica, cannot_run_reason, make_primary
from load_tests.server import free_port, start_server, wait_ready
from open287g.config import get_settings
from open287g.db import migrate
from open287g.loaders.ice287g.load import load_sources, plan_sources

PATH = "/v1/agreements?limit=100"
CONNECTIONS = 16
WARM_UP_SECONDS = 2


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    errors: int  # non-2xx/3xx answers plus socket errors
    requests: int = 0  # answered in the run (when the caller reads it)


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _parse(out: str) -> WrkResult:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(bad[1]) if bad else 0
    errors += sum(int(n) for n in sockets.groups()) if sockets else 0
    return WrkResult(float(rate[1]) if rate else 0.0, errors)


def _wrk_at_once(bases: list[str], seconds: int) -> list[WrkResult]:
    """One wrk per process, started together; each one's result."""
    runs = [
        subprocess.Popen(  # noqa: S603
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", base + PATH],  # noqa: S607
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for base in bases
    ]
    results = []
    for run in runs:
        out, err = run.communicate(timeout=seconds + 60)
        if run.returncode != 0:
            raise RuntimeError(f"wrk failed: {err.strip()}")
        results.append(_parse(out))
    return results


def _server_env(primary: URL, replica: URL | None, *, cached: bool) -> dict[str, str]:
    """Nothing inherited that could point a process elsewhere (no Redis: in-memory cache)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPEN287G_", "REDIS_"))}
    env.pop("DATABASE_REPLICA_URL", None)
    env.update(
        DATABASE_URL=_libpq(primary),
        OPEN287G_RESPONSE_CACHE="true" if cached else "false",
    )
    if replica is not None:
        env["DATABASE_REPLICA_URL"] = _libpq(replica)
    return env


async def _measure(
    cluster: Cluster, processes: int, *, on_replica: bool, cached: bool, seconds: int
) -> list[WrkResult]:
    env = _server_env(
        cluster.primary.url, cluster.replica.url if on_replica else None, cached=cached
    )
    servers: list[subprocess.Popen[bytes]] = []
    try:
        bases = []
        for _ in range(processes):
            port = free_port()
            servers.append(start_server(env, port))
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            await wait_ready(base, seconds=60)
        await asyncio.to_thread(_wrk_at_once, bases, WARM_UP_SECONDS)
        results = await asyncio.to_thread(_wrk_at_once, bases, seconds)
        if on_replica:
            await _check_reads_from_replica(bases)
        return results
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


async def _check_reads_from_replica(bases: list[str]) -> None:
    """A replica figure means nothing if reads fell back to the primary during the run."""
    async with httpx.AsyncClient(timeout=10) as http:
        for base in bases:
            replica = (await http.get(f"{base}/readyz")).json().get("replica", {})
            if replica.get("serving_reads_from") != "replica":
                raise RuntimeError(f"{base} was not reading from the replica: {replica}")


async def _load(url: URL, folder: Path) -> int:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        results = await load_sources(engine, plan_sources([str(folder)]), get_settings())
    finally:
        await engine.dispose()
    return len(results)


CONFIGURATIONS = (
    ("one process, primary", 1, False),
    ("two processes, primary", 2, False),
    ("two processes, replica", 2, True),
)


async def main(seconds: int, folder: Path) -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench_scale needs wrk (apt-get install wrk)")
    if (reason := cannot_run_reason()) is not None:
        sys.exit(f"bench_scale needs the embedded PostgreSQL binaries: {reason}")
    async with AsyncExitStack() as stack:
        root, primary = make_primary()
        cluster = Cluster(root, primary, primary)
        stack.callback(lambda: cluster.stop())
        await asyncio.to_thread(migrate.upgrade, primary.url)
        files = await _load(primary.url, folder)
        cluster = await asyncio.to_thread(add_replica, root, primary)
        rows = []
        for cached in (False, True):
            baseline = 0.0
            for label, processes, on_replica in CONFIGURATIONS:
                results = await _measure(
                    cluster, processes, on_replica=on_replica, cached=cached, seconds=seconds
                )
                total = sum(r.requests_per_second for r in results)
                baseline = baseline or total
                each = " + ".join(f"{r.requests_per_second:.0f}" for r in results)
                errors = sum(r.errors for r in results)
                rows.append(
                    f"{'on' if cached else 'off':<15} {label:<24} {total:>8.0f} {each:>19}"
                    f" {total / baseline:>6.2f} {errors:>6}"
                )
                print(rows[-1], file=sys.stderr, flush=True)  # progress, between server banners
    # The table last, after every server's start-up banner.
    print(f"\n{files} ICE snapshots on a primary and a streaming replica; GET {PATH}")
    print(f"wrk -t1 -c{CONNECTIONS} -d{seconds}s per process, all at once, summed\n")
    header = f"{'response cache':<15} {'configuration':<24} {'req/s':>8} {'per process':>19}"
    print(f"{header} {'x one':>6} {'errors':>6}")
    print("\n".join(rows))


if __name__ == "__main__":
    asyncio.run(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 10,
            Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_FOLDER,
        )
    )
