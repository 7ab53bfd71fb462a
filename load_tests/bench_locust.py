"""Run the Locust mix against the real server (one worker) on the 54 shared snapshots,
headless and bounded in time; print Locust's own summary.

    python -m load_tests.bench_locust [SECONDS] [USERS]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from load_tests.bench_ice_load import load_ice_lists, scratch_database
from load_tests.server import PROJECT_ROOT, database_env, serving

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
        await load_ice_lists(url)
        async with serving(database_env(url)) as (host, _):
            report = await asyncio.to_thread(_run_locust, host, seconds, users)
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if "Type" in line and "Name" in line), 0)
    print("\n".join(lines[start:]))


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 15, int(args[1]) if len(args) > 1 else 20))
