"""Benchmark: load all shared MOA PDFs (text layer and OCR) into an empty database that
holds the ICE lists; print time, pages/s by method, peak memory, and the extractor's
precision and recall against the values read by eye (tests/data/moa_truth.csv), apart
for text-layer documents and scans.

    make bench            (or: python -m load_tests.bench_moas [FOLDER] [--jobs N])

OCR dominates: expect minutes, not seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from pathlib import Path

from sqlalchemy import text

from load_tests.bench_ice_load import scratch_database
from open287g.config import get_settings
from open287g.db.session import make_engine
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.moas.evaluate import report, score
from open287g.loaders.moas.load import load_moas, plan_moas
from open287g.loaders.moas.truth import load_truth

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TRUTH = Path(__file__).resolve().parents[1] / "tests" / "data" / "moa_truth.csv"
_FIELDS = {
    "agency_name": "agency_signatory.name",
    "agency_title": "agency_signatory.title",
    "agency_date": "agency_signatory.signed_on",
    "ice_name": "ice_signatory.name",
    "ice_title": "ice_signatory.title",
    "ice_date": "ice_signatory.signed_on",
    "signed_on": "signed_on",
}


def _peak_mb() -> float:
    """Peak resident memory of this process (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(folder: Path, jobs: int) -> None:
    settings = get_settings()
    async with scratch_database() as url:
        engine = make_engine(url, pool_size=2)
        await load_sources(engine, plan_sources([str(SHARED / "ice-287g")]), settings)
        planned = plan_moas([str(folder)])
        started = time.perf_counter()
        totals = await load_moas(engine, planned, settings, jobs=jobs)
        seconds = time.perf_counter() - started
        rerun_started = time.perf_counter()
        again = await load_moas(engine, planned, settings, jobs=jobs)
        rerun = time.perf_counter() - rerun_started
        async with engine.connect() as conn:
            counted = await conn.execute(
                text("SELECT method, count(*) FROM document_pages GROUP BY method")
            )
            pages: dict[str, int] = {str(m): int(n) for m, n in counted.all()}
            rows = (
                await conn.execute(
                    text(
                        "SELECT d.file_name, f.field, f.value FROM documents d"
                        " JOIN document_fields f ON f.document_id = d.id"
                    )
                )
            ).all()
            links = await conn.scalar(text("SELECT count(*) FROM document_agreements"))
            officials = await conn.scalar(
                text("SELECT count(*) FROM officials WHERE document_id IS NOT NULL")
            )
        await engine.dispose()
    own = _peak_mb()
    total_pages = sum(pages.values())
    print(f"moas load: {len(planned)} PDFs, {total_pages} pages in {seconds:.0f} s, {jobs} jobs")
    print(f"  {totals.summary()}")
    print(f"  pages by method: {pages}; {total_pages / seconds:.2f} pages/s overall")
    print(f"  links to agreements {links}, officials from documents {officials}")
    print(
        f"  peak memory: loader {own:.0f} MB, largest reader {totals.worker_peak_mb:.0f} MB"
        " (its own; the OCR engines' child processes have their own caps)"
    )
    print(f"  re-run (all unchanged by sha256): {again.summary()} in {rerun:.1f} s")
    by_file: dict[str, dict[str, str | None]] = {}
    for name, field_name, value in rows:
        by_file.setdefault(name, {})[field_name] = value
    predictions = {
        name: {key: fields.get(stored) for key, stored in _FIELDS.items()}
        for name, fields in by_file.items()
    }
    truth = [r for r in load_truth(TRUTH) if r["set"] == "dev"]  # the test set: make moa-eval
    for kind in ("text", "scan"):
        sample = [r for r in truth if r["kind"] == kind and r["file"] in predictions]
        scores = score(sample, predictions)
        print(f"extraction on {len(sample)} {kind} documents read by eye:")
        print("  " + report(scores).replace("\n", "\n  "))
        for result in scores.values():
            for wrong in result.wrong:
                print(f"    wrong: {wrong}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", nargs="?", default=str(SHARED / "moa"))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(Path(args.folder), args.jobs))
