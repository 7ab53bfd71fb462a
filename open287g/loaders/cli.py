"""`open287g load …`: argument parsing, progress and the one-line summaries."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from importlib.resources import files
from pathlib import Path

from tqdm import tqdm

from open287g.config import get_settings
from open287g.db.ingest.provenance import LoadCounts
from open287g.db.ingest.removal import holds_real_files
from open287g.db.models.enums import SnapshotKind
from open287g.loaders.commands import command, migrated_engine
from open287g.loaders.csv_documents import add_csv_document_command
from open287g.loaders.datasets_cli import add_dataset_commands
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.errors import LoadError
from open287g.loaders.facility_overrides import FACILITY_OVERRIDES
from open287g.loaders.ice287g.discover import discover_current_lists
from open287g.loaders.ice287g.load import (
    DATASET,
    FileResult,
    PlannedSource,
    load_sources,
    plan_sources,
)
from open287g.loaders.lineage_overrides import LINEAGE_OVERRIDES
from open287g.loaders.moas.cli import add_moa_command
from open287g.loaders.officials import load_officials_document
from open287g.loaders.placement_overrides import PLACEMENT_OVERRIDES
from open287g.loaders.policies import load_policy_document

DEMO_DIR = Path(str(files("open287g") / "demo"))


def add_load_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`load …`, and `datasets …` (list what is loaded, remove it again)."""
    add_dataset_commands(commands)
    load = commands.add_parser("load", help="load source files into the database")
    kinds = load.add_subparsers(dest="dataset", required=True, metavar="DATASET")

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

    add_csv_document_command(
        kinds,
        "policies",
        help="jurisdiction policy CSV (format in docs/data.md)",
        description="Load a policy CSV (file or URL): dated, cited claims about jurisdictions.",
        load=lambda engine, document: load_policy_document(engine, document, get_settings()),
        summary=LoadCounts.summary,
    )
    add_csv_document_command(
        kinds,
        "officials",
        help="officials in charge of agencies (CSV, format in docs/data.md)",
        description="Load an officials CSV (file or URL), matched to agencies by state and "
        "agency name; unmatched rows are reported as rejected.",
        load=load_officials_document,
        summary=LoadCounts.summary,
    )
    LINEAGE_OVERRIDES.add_command(kinds)
    FACILITY_OVERRIDES.add_command(kinds)
    PLACEMENT_OVERRIDES.add_command(kinds)

    add_moa_command(kinds)


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
