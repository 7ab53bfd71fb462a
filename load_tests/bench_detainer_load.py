"""Benchmark: aggregate and load a 400,000-row synthetic detainer release (CSV from the
shared generator); print seconds, rows/s and the peak memory of this process.

    python -m load_tests.bench_detainer_load [ROWS]

Target (issue #4): 400,000 rows in under 30 s, peak memory under 500 MB.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from load_tests.bench_ice_load import scratch_database
from load_tests.server import run_on_release
from open287g.config import get_settings
from open287g.db.session import make_engine
from open287g.loaders.detainers.load import load_detainer_source


async def load(release: Path) -> None:
    async with scratch_database() as url:
        engine = make_engine(url, pool_size=1)
        started = time.perf_counter()
        result = await load_detainer_source(engine, str(release), get_settings(), is_synthetic=True)
        seconds = time.perf_counter() - started
        await engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"detainer load: {result.counts.rows_read:,} rows → {result.counts.inserted:,} cells "
        f"in {seconds:.2f} s ({result.counts.rows_read / seconds:,.0f} rows/s); "
        f"peak memory {peak_mb:,.0f} MB"
    )


if __name__ == "__main__":
    run_on_release(load)
