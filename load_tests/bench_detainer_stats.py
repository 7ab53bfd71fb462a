"""Benchmark: detainer statistics queries on synthetic releases of 20,000 and 200,000 rows.

    python -m load_tests.bench_detainer_stats [ROWS ...]

For each size: load a synthetic release into a scratch database, then time the query
layer (the same call both APIs make) for breakdowns with and without personal attributes,
filtered and not, and the whole-table export breakdown. Prints the median of 3 runs.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from load_tests.bench_ice_load import scratch_database
from load_tests.server import generate_detainers
from open287g.config import get_settings
from open287g.db.queries.detainers import DetainerDimension as D
from open287g.db.queries.detainers import DetainerFilter, detainer_stats
from open287g.db.session import make_engine
from open287g.loaders.detainers.load import load_detainer_source

QUERIES: list[tuple[str, list[D], DetainerFilter]] = [
    ("state", [D.STATE], DetainerFilter()),
    ("state,month,outcome", [D.STATE, D.MONTH, D.OUTCOME], DetainerFilter()),
    ("state,citizenship", [D.STATE, D.CITIZENSHIP], DetainerFilter()),
    ("month,criminality (TX)", [D.MONTH, D.CRIMINALITY], DetainerFilter(state="TX")),
    (
        "every cell (export)",
        [D.FACILITY, D.MONTH, D.OUTCOME, D.CRIMINALITY, D.CITIZENSHIP],
        DetainerFilter(),
    ),
]


async def measure(rows: int, folder: Path) -> None:
    release = generate_detainers(folder / f"detainers-{rows}.csv", rows)
    async with scratch_database() as url:
        engine = make_engine(url, pool_size=1)
        settings = get_settings()
        started = time.perf_counter()
        await load_detainer_source(engine, str(release), settings, is_synthetic=True)
        print(f"{rows:,} rows loaded in {time.perf_counter() - started:.2f} s")
        async with engine.connect() as conn:
            for label, group_by, filters in QUERIES:
                seconds = []
                for _ in range(3):
                    started = time.perf_counter()
                    found = await detainer_stats(
                        conn, group_by, filters, min_cell=settings.min_cell
                    )
                    seconds.append(time.perf_counter() - started)
                print(
                    f"  {label:<28} {len(found):>7,} rows  "
                    f"{statistics.median(seconds) * 1000:8.1f} ms"
                )
        await engine.dispose()


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for rows in sizes:
            asyncio.run(measure(rows, Path(folder)))


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [20_000, 200_000])
