"""Normal users with and without attackers: the normal users' latency and error rate in
both runs, against the real server (one worker) on the 54 shared snapshots.

    python -m load_tests.bench_hostile [SECONDS] [USERS]

Both runs hit the same server and database, one after the other; only the ratio between
them carries over to another machine. Rate limiting is set high for these runs: every
Locust user shares 127.0.0.1, so per-client limits would throttle the normal users too
(limits have their own tests).
"""

from __future__ import annotations

import asyncio
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

from load_tests.bench_ice_load import load_ice_lists, scratch_database
from load_tests.server import PROJECT_ROOT, database_env, serving

LOCUSTFILE = Path(__file__).with_name("locustfile_hostile.py")
NORMAL = ("AppDeveloper", "DataPortal")


def _run(host: str, seconds: int, users: int, classes: tuple[str, ...], out: Path) -> None:
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
        "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--only-summary",
        "--stop-timeout", "5", "--csv", str(out), *classes,
    ]  # fmt: skip
    subprocess.run(  # noqa: S603
        command, capture_output=True, cwd=PROJECT_ROOT, check=False, timeout=seconds + 60
    )


def _summary(stats_csv: Path) -> dict[str, float]:
    """Normal users' totals; percentiles are the worst normal endpoint's (Locust does not
    merge percentiles across names without the raw samples)."""
    rows = list(csv.DictReader(stats_csv.open()))
    normal = [r for r in rows if r["Name"] != "Aggregated" and not r["Name"].startswith("ATTACK")]
    attack = [r for r in rows if r["Name"].startswith("ATTACK")]
    requests = sum(int(r["Request Count"]) for r in normal)
    attacks = sum(int(r["Request Count"]) for r in attack)
    return {
        "requests": requests,
        "failures": sum(int(r["Failure Count"]) for r in normal),
        "rps": sum(float(r["Requests/s"]) for r in normal),
        "p50": max(float(r["50%"]) for r in normal),
        "p95": max(float(r["95%"]) for r in normal),
        "p99": max(float(r["99%"]) for r in normal),
        "attack_requests": attacks,
        "attack_failures": sum(int(r["Failure Count"]) for r in attack),
    }


async def main(seconds: int, users: int) -> None:
    async with scratch_database() as url:
        await load_ice_lists(url)
        env = database_env(url, OPEN287G_RATE_LIMIT_PER_MINUTE="1000000")
        results = {}
        async with serving(env) as (host, _):
            with tempfile.TemporaryDirectory() as folder:
                # A short unmeasured run first: caches and connections warm, JIT-free plans
                # prepared, so neither measured run pays for the other's start.
                await asyncio.to_thread(_run, host, 5, users, NORMAL, Path(folder) / "warm")
                for label, classes in (("normal only", NORMAL), ("with attackers", ())):
                    prefix = Path(folder) / label.replace(" ", "_")
                    await asyncio.to_thread(_run, host, seconds, users, classes, prefix)
                    results[label] = _summary(Path(f"{prefix}_stats.csv"))
    print(f"{'run':<16}{'req/s':>8}{'fail':>6}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
          f"{'attacks':>9}{'atk 5xx':>9}")  # fmt: skip
    for label, r in results.items():
        print(
            f"{label:<16}{r['rps']:>8.0f}{r['failures']:>6.0f}{r['p50']:>8.0f}{r['p95']:>8.0f}"
            f"{r['p99']:>8.0f}{r['attack_requests']:>9.0f}{r['attack_failures']:>9.0f}"
        )
    hostile = results["with attackers"]
    share = hostile["attack_requests"] / max(1, hostile["attack_requests"] + hostile["requests"])
    base = results["normal only"]
    print(f"attack share of requests: {share:.1%}; normal p99 with/without attackers: "
          f"{hostile['p99'] / max(1.0, base['p99']):.2f}x")  # fmt: skip


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(int(args[0]) if args else 20, int(args[1]) if len(args) > 1 else 20))
