"""Benchmark: stream every detainer aggregate as CSV from the real server.

Loads a 400,000-row synthetic release (≈190,000 stored cells), starts `open287g serve`,
downloads `/v1/stats/detainers?group_by=facility,month,outcome,criminality,citizenship
&format=csv` and prints rows/s and the server's peak memory (VmHWM).

    python -m load_tests.bench_export [ROWS]
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from load_tests.bench_ice_load import scratch_database
from load_tests.server import database_env, run_on_release, serving
from open287g.config import get_settings
from open287g.db.session import make_engine
from open287g.loaders.detainers.load import load_detainer_source

EXPORT = "/v1/stats/detainers?group_by=facility,month,outcome,criminality,citizenship&format=csv"


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def run(release: Path) -> None:
    async with scratch_database() as url:
        engine = make_engine(url, pool_size=1)
        await load_detainer_source(engine, str(release), get_settings(), is_synthetic=True)
        await engine.dispose()
        async with (
            serving(database_env(url)) as (base, server),
            httpx.AsyncClient(timeout=120) as http,
        ):
            idle = _peak_mb(server.pid)
            started = time.perf_counter()
            rows = -1  # the header line
            async with http.stream("GET", base + EXPORT) as response:
                async for _line in response.aiter_lines():
                    rows += 1
            seconds = time.perf_counter() - started
            peak = _peak_mb(server.pid)
    print(
        f"detainer aggregate export: {rows:,} CSV rows in {seconds:.2f} s "
        f"({rows / seconds:,.0f} rows/s); server peak memory {peak:,.0f} MB "
        f"(idle {idle:,.0f} MB)"
    )


if __name__ == "__main__":
    run_on_release(run)
