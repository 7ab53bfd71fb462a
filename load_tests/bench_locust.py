"""Run the Locust mix against the real server (one worker) on the 54 shared snapshots,
headless and bounded in time; print Locust's own summary.

    python -m load_tests.bench_locust [SECONDS] [USERS]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from load_tests.bench_ice_load import DEFAULT_FOLDER, scratch_database
from load_tests.server import PROJECT_ROOT, free_port, start_server, wait_ready
from open287g.config import get_settings
from open287g.db.session import make_engine
from open287g.loaders.ice287g.load import load_sources, plan_sources

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def _run_locust(host: str, seconds: int, users: int) -> str:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--only-summary",
        "--stop-timeout",
        "5",
    ]
    done = subprocess.run(  # noqa: S603
        command,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        timeout=seconds + 60,
    )
    return done.stdout + done.stderr


async def main(seconds: int, users: int) -> None:
    async with scratch_database() as url:
        engine = make_engine(url, pool_size=2)
        await load_sources(engine, plan_sources([str(DEFAULT_FOLDER)]), get_settings())
        await engine.dispose()
        port = free_port()
        server = start_server(
            dict(os.environ, DATABASE_URL=url.render_as_string(hide_password=False)), port
        )
        host = f"http://127.0.0.1:{port}"
        try:
            await wait_ready(host)
            report = await asyncio.to_thread(_run_locust, host, seconds, users)
        finally:
            server.terminate()
            server.wait(timeout=10)
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if "Type" in line and "Name" in line), 0)
    print("\n".join(lines[start:]))


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 15, int(args[1]) if len(args) > 1 else 20))
