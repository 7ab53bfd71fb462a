"""What every data command shares: running it (async, a bad input is a one-line error and
exit code 1), an engine on the primary database whose schema is at head, and the
declaration of a source (`Source`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import get_settings
from open287g.db.ingest.removed import RemovalStep
from open287g.db.migrate import require_current_schema
from open287g.db.session import make_engine, primary_url
from open287g.loaders.errors import LoadError

Handler = Callable[[argparse.Namespace], Coroutine[None, None, int]]


def command(load: Handler) -> Callable[[argparse.Namespace], int]:
    """Run an async command; a bad input file is a one-line error and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return asyncio.run(load(args))
        except LoadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


@asynccontextmanager
async def migrated_engine() -> AsyncIterator[AsyncEngine]:
    """An engine on the primary database, once its schema is known to be at head."""
    engine = make_engine(primary_url(get_settings()), pool_size=2)
    try:
        async with engine.connect() as conn:
            await require_current_schema(conn)
        yield engine
    finally:
        await engine.dispose()


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class Source:
    """A data source, declared once beside its loader and listed in `loaders/registry.py`:
    the dataset its files are recorded under (`source_files.dataset`, also its `load`
    command's name), the command (whose handler parses the files and ingests them through
    `db/ingest/`), and how its rows go when its files are removed (`datasets remove`;
    None: its files cannot be removed)."""

    dataset: str
    add_command: Callable[[Subparsers], None]
    remove: RemovalStep | None
