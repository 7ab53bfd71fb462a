"""Running the `open287g` command inside a test."""

from __future__ import annotations

import asyncio

from open287g.cli import main


async def run_cli(argv: list[str]) -> int:
    """The CLI runs its own event loop, so it runs on a worker thread here."""
    return await asyncio.to_thread(main, argv)
