"""`open287g load moas SOURCE...`: arguments, progress bar and the one-line summary."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from tqdm import tqdm

from open287g.config import get_settings
from open287g.db.ingest.documents import (
    DATASET,
    agreement_urls_without_document,
    link_agreements,
)
from open287g.loaders.commands import Source, command, migrated_engine
from open287g.loaders.errors import LoadError
from open287g.loaders.moas.load import MoaResult, PlannedMoa, load_moas, plan_moas
from open287g.loaders.moas.read import ReadLimits
from open287g.loaders.sources import fetch_url

# The exit status is the number of files unreadable or not stored, capped here (a shell
# sees 0-255, and 126 and up have meanings of their own).
MAX_EXIT_STATUS = 100


# The ReadLimits a command-line option sets: (field, unit, help); the option is --field
# (dashes for underscores), its default and type the field's.
_LIMIT_OPTIONS = (
    (
        "time_limit",
        "SECONDS",
        "wall-clock limit of the PDF work (parsing, text, rendering) on one document, "
        "OCR not counted; a document that exceeds it is stored as unreadable",
    ),
    (
        "page_time_limit",
        "SECONDS",
        "wall-clock limit of the PDF work on one page; a page past it (or past the "
        "memory limit) is left unread and the document read without it",
    ),
    (
        "memory_limit",
        "MB",
        "address space of each worker process (and the Tesseract it runs); a document "
        "that exceeds it is stored as unreadable",
    ),
    ("ocr_timeout", "SECONDS", "time limit of one OCR pass on one page"),
    (
        "ocr_budget",
        "SECONDS",
        "OCR time of one document; scanned pages past it are left unread (partial)",
    ),
)


def add_moa_command(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    moas = kinds.add_parser(
        "moas",
        help="MOA PDFs: text (OCR for scans), signatories, links to agreements",
        description="Load MOA documents (PDF files, folders or URLs). With no SOURCE, the "
        "moaUrl of every agreement that has no document yet is downloaded. Documents are "
        "stored once per sha256; the same bytes are read again only when that may read "
        "them better (a newer extractor; scans OCR could not read and now can) or with "
        "--reread. Each file gets a one-line result; the exit status is the number of "
        f"files unreadable or not stored (at most {MAX_EXIT_STATUS}).",
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
        "--reread",
        action="store_true",
        help="read every document again, even one this extractor read fully before",
    )
    for field, unit, help in _LIMIT_OPTIONS:
        moas.add_argument(
            "--" + field.replace("_", "-"),
            type=type(getattr(ReadLimits, field)),
            default=getattr(ReadLimits, field),
            metavar=unit,
            help=help,
        )
    moas.set_defaults(handler=command(_load_moas))


async def _load_moas(args: argparse.Namespace) -> int:
    settings = get_settings()
    limits = ReadLimits(
        ocr=not args.no_ocr, **{field: getattr(args, field) for field, _, _ in _LIMIT_OPTIONS}
    )
    started = time.monotonic()
    async with migrated_engine() as engine:
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
                bar.write(result.line(), file=sys.stderr)

            totals = await load_moas(
                engine,
                planned,
                settings,
                limits=limits,
                jobs=args.jobs,
                reread=args.reread,
                on_result=report,
            )
    elapsed = time.monotonic() - started
    print(f"moas: {len(planned)} file(s) in {elapsed:.0f} s: {totals.summary()}")
    return min(totals.failed, MAX_EXIT_STATUS)


# MOA documents are kept once per sha256 and linked to agreements: not removable.
MOAS = Source(DATASET, add_moa_command, None)
