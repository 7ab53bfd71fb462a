"""`open287g load detainers`: arguments and the one-line summaries."""

from __future__ import annotations

import argparse
import sys

from open287g.config import get_settings
from open287g.db.ingest.detainers import remove_releases
from open287g.loaders.commands import Source, Subparsers, command, migrated_engine
from open287g.loaders.detainers.load import DATASET, load_detainer_source


def add_detainers_command(kinds: Subparsers) -> None:
    detainers = kinds.add_parser(
        "detainers",
        help="a detainer release (CSV, parquet or xlsx), aggregated while reading",
        description="Load a detainer release (file or URL): individual-level rows in the "
        "ICE / Deportation Data Project layout, or the aggregate CSV of docs/data.md. "
        "Only aggregates are stored. For the months it covers, a release replaces what "
        "earlier releases said, unless --fill-gaps.",
    )
    detainers.add_argument("source", metavar="SOURCE")
    detainers.add_argument(
        "--fill-gaps",
        action="store_true",
        help="keep months other releases already cover; load only the new months",
    )
    detainers.add_argument(
        "--synthetic",
        action="store_true",
        help="label the release as synthetic (test data, never shown as fact)",
    )
    detainers.set_defaults(handler=command(_load_detainers))


async def _load_detainers(args: argparse.Namespace) -> int:
    settings = get_settings()
    async with migrated_engine() as engine:
        print(f"aggregating {args.source} …", file=sys.stderr)
        result = await load_detainer_source(
            engine, args.source, settings, fill_gaps=args.fill_gaps, is_synthetic=args.synthetic
        )
    counts = result.counts
    if result.load_run_id is None:
        print(f"{args.source}: already loaded (same sha256), nothing changed")
    else:
        print(
            f"{args.source}: load run {result.load_run_id}: {counts.rows_read:,} rows "
            f"({result.layout}) → {counts.inserted:,} cells; {counts.repaired:,} rows repaired; "
            f"{counts.updated:,} cells of earlier releases replaced"
        )
    print(f"detainers: {counts.summary()}")
    return 0


DETAINERS = Source(DATASET, add_detainers_command, remove_releases)
