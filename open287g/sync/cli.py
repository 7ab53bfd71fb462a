"""`open287g sync [--once]`: arguments and the process around `sync.run`."""

from __future__ import annotations

import argparse
import logging
import logging.config
from pathlib import Path

from open287g.config import get_settings
from open287g.loaders.commands import command, migrated_engine
from open287g.web.observability import log_config


def add_sync_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = commands.add_parser(
        "sync",
        help="keep the database current with ICE's 287(g) page (runs until stopped)",
        description="Read ICE's 287(g) page every interval, download new participating and "
        "pending lists (conditional requests; each file once), keep each by sha256 in the "
        "archive, load the good ones and quarantine the rest; then the MOAs of agreements "
        "that have none. docs/operating.md, 'Keeping current: open287g sync'.",
    )
    sync.add_argument("--once", action="store_true", help="one pass, then exit (1 if it failed)")
    sync.add_argument(
        "--every",
        type=float,
        default=None,
        metavar="MINUTES",
        help="minutes between passes, with ±10%% jitter (OPEN287G_SYNC_EVERY, default 30)",
    )
    sync.add_argument(
        "--ice-page", default=None, metavar="URL", help="the page (OPEN287G_ICE_PAGE_URL)"
    )
    sync.add_argument(
        "--archive",
        default=None,
        metavar="DIR",
        help="where downloaded files are kept (OPEN287G_SYNC_ARCHIVE_DIR)",
    )
    sync.add_argument(
        "--no-moas", action="store_true", help="lists only (OPEN287G_SYNC_MOAS=false)"
    )
    sync.set_defaults(handler=command(_sync))


async def _sync(args: argparse.Namespace) -> int:
    from open287g.sync.run import run_forever, sync_once

    # The passes, loads and quarantines are logged like `serve`'s requests (JSON lines by
    # default, OPEN287G_LOG_FORMAT); httpx's line per request is left out.
    logging.config.dictConfig(log_config(get_settings().log_format, "info"))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    overrides: dict[str, object] = {}
    if args.every is not None:
        overrides["sync_every_minutes"] = args.every
    if args.ice_page is not None:
        overrides["ice_page_url"] = args.ice_page
    if args.archive is not None:
        overrides["sync_archive_dir"] = Path(args.archive)
    if args.no_moas:
        overrides["sync_moas"] = False
    settings = get_settings().model_copy(update=overrides)
    async with migrated_engine() as engine:
        if args.once:
            result = await sync_once(engine, settings)
            print(result.summary())
            return 1 if result.outcome == "failed" else 0
        await run_forever(engine, settings, every_seconds=settings.sync_every_minutes * 60)
    return 0
