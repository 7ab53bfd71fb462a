"""`open287g load moas SOURCE...`: arguments, progress bar and the one-line summary."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from tqdm import tqdm

from open287g.config import get_settings
from open287g.db.ingest.documents import agreement_urls_without_document, link_agreements
from open287g.loaders.commands import command, migrated_engine
from open287g.loaders.errors import LoadError
from open287g.loaders.moas.load import MoaResult, PlannedMoa, load_moas, plan_moas
from open287g.loaders.moas.read import ReadLimits
from open287g.loaders.sources import fetch_url


def add_moa_command(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    moas = kinds.add_parser(
        "moas",
        help="MOA PDFs: text (OCR for scans), signatories, links to agreements",
        description="Load MOA documents (PDF files, folders or URLs). With no SOURCE, the "
        "moaUrl of every agreement that has no document yet is downloaded. Documents are "
        "stored once per sha256; loading the same bytes again changes nothing.",
    )
    moas.add_argument("sources", nargs="*", metavar="SOURCE")
    moas.add_argument(
        "--jobs",
        type=int,
        default=max(1, min(4, (os.cpu_count() or 1))),
        help="documents read in parallel (worker processes; default: CPUs, at most 4)",
    )
    moas.add_argument("--no-ocr", action="store_true", help="store scans without reading them")
    moas.add_argument(
        "--ocr-timeout",
        type=float,
        default=ReadLimits.ocr_timeout,
        metavar="SECONDS",
        help="time limit of one OCR pass on one page",
    )
    moas.set_defaults(handler=command(_load_moas))


async def _load_moas(args: argparse.Namespace) -> int:
    settings = get_settings()
    limits = ReadLimits(ocr=not args.no_ocr, ocr_timeout=args.ocr_timeout)
    started = time.monotonic()
    async with migrated_engine() as engine:
        keep_going = not args.sources
        if args.sources:
            planned = plan_moas(args.sources)
        else:
            async with engine.begin() as conn:
                await link_agreements(conn)  # agreements loaded since the last run
                urls = await agreement_urls_without_document(conn)
            if not urls:
                print("moas: every agreement's MOA is loaded; nothing to do")
                return 0
            try:  # one download first: offline, say so and load nothing
                await fetch_url(
                    urls[0],
                    max_bytes=settings.max_upload_bytes,
                    http_timeout=min(settings.http_timeout, 10.0),
                )
            except LoadError as exc:
                print(
                    f"moas: {len(urls)} MOA link(s) to fetch, but {exc.message}; "
                    "offline? nothing loaded",
                    file=sys.stderr,
                )
                return 1
            planned = [PlannedMoa(url, url) for url in urls]
        bar_args: dict[str, Any] = {"unit": "doc", "file": sys.stderr}
        with tqdm(total=len(planned), disable=len(planned) < 2, **bar_args) as bar:

            def report(result: MoaResult) -> None:
                bar.update(1)
                if result.status in ("unreadable", "partial", "failed"):
                    bar.write(f"{result.name}: {result.status}: {result.reason}")

            totals = await load_moas(
                engine,
                planned,
                settings,
                limits=limits,
                jobs=args.jobs,
                keep_going=keep_going,
                on_result=report,
            )
    elapsed = time.monotonic() - started
    print(f"moas: {len(planned)} file(s) in {elapsed:.0f} s: {totals.summary()}")
    return 0
