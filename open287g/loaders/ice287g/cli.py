"""`open287g load ice-287g`: arguments, progress and the one-line summaries."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from importlib.resources import files
from pathlib import Path

from tqdm import tqdm

from open287g.config import get_settings
from open287g.db.ingest.ice287g import remove_lists
from open287g.db.ingest.provenance import LoadCounts
from open287g.db.ingest.removal import holds_real_files
from open287g.db.models.enums import SnapshotKind
from open287g.loaders.commands import Source, Subparsers, command, migrated_engine
from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.discover import discover_current_lists
from open287g.loaders.ice287g.load import (
    DATASET,
    FileResult,
    PlannedSource,
    load_sources,
    plan_sources,
)

DEMO_DIR = Path(str(files("open287g") / "demo"))


def add_ice_command(kinds: Subparsers) -> None:
    ice = kinds.add_parser(
        "ice-287g",
        help="ICE participating/pending agency spreadsheets",
        description="Load ICE 287(g) spreadsheets: files, folders (oldest snapshot first) or "
        "URLs. With no SOURCE, the current lists linked from ICE's 287(g) page.",
    )
    ice.add_argument("sources", nargs="*", metavar="SOURCE")
    ice.add_argument(
        "--kind",
        type=lambda v: SnapshotKind(v.upper()),
        help="participating or pending, when the file name does not say",
    )
    ice.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="publication date, when the file name does not say",
    )
    source = ice.add_mutually_exclusive_group()
    source.add_argument(
        "--demo", action="store_true", help="load the shipped demo data set (labelled as demo)"
    )
    source.add_argument(
        "--demo-if-offline",
        action="store_true",
        help="with no SOURCE: load the demo data set when ice.gov cannot be reached",
    )
    ice.set_defaults(handler=command(_load_ice))


async def _load_ice(args: argparse.Namespace) -> int:
    settings = get_settings()
    sources: list[str] = list(args.sources)
    is_demo = bool(args.demo)
    if is_demo:
        sources = [str(DEMO_DIR)]
    elif not sources:
        try:
            sources = await discover_current_lists(min(settings.http_timeout, 10.0))
        except LoadError as exc:
            if not args.demo_if_offline:
                raise
            if await _holds_real_lists():
                print(f"{exc}\nkeeping the real lists already loaded", file=sys.stderr)
                return 0
            print(f"{exc}\nloading the DEMO data set instead (not real data)", file=sys.stderr)
            sources, is_demo = [str(DEMO_DIR)], True
    planned = plan_sources(sources, kind=args.kind, as_of=args.as_of)
    total = LoadCounts()
    with tqdm(total=len(planned), unit="file", disable=len(planned) < 2, file=sys.stderr) as bar:

        def report(result: FileResult) -> None:
            bar.update(1)
            bar.write(_describe(result))
            for name in ("rows_read", "inserted", "updated", "unchanged", "ended", "rejected"):
                setattr(total, name, getattr(total, name) + getattr(result.counts, name))

        async with migrated_engine() as engine:
            try:
                await load_sources(engine, planned, settings, is_demo=is_demo, on_result=report)
            except LoadError:
                bar.write("nothing from the failing file was written; files before it are loaded")
                raise
    print(f"ice-287g: {len(planned)} file(s): {total.summary()}")
    return 0


async def _holds_real_lists() -> bool:
    async with migrated_engine() as engine, engine.connect() as conn:
        return await holds_real_files(conn, DATASET)


def _describe(result: FileResult) -> str:
    planned: PlannedSource = result.planned
    name = planned.source.rstrip("/").rsplit("/", 1)[-1]
    what = f"{planned.kind.value.lower()} {planned.published_on.isoformat()}"
    demo = ""
    if result.removed_demo is not None:
        demo = f"\n  the DEMO data set was removed first: {result.removed_demo.summary()}"
    if result.unchanged_file:
        return f"{name} ({what}): already loaded (same sha256), nothing changed{demo}"
    return f"{name} ({what}): load run {result.load_run_id}: {result.counts.summary()}{demo}"


ICE_287G = Source(DATASET, add_ice_command, remove_lists)
