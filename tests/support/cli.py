"""The command line under test: it reads its database from DATABASE_URL and runs its own
event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.engine import URL

from open287g.cli import main
from open287g.config import get_settings
from tests.support.database import create_database_copy, drop_database


@contextlib.asynccontextmanager
async def cli_database(
    server_url: URL, template_url: URL, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[URL]:
    """A copy of the template of its own, named by DATABASE_URL while it lasts (settings
    are read again on the way in and out), dropped afterwards."""
    url = await create_database_copy(server_url, template_url)
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        yield url
    finally:
        get_settings.cache_clear()
        await drop_database(server_url, url)


async def run_cli(argv: list[str]) -> int:
    """`open287g argv…`'s exit status; on a worker thread, as the CLI runs its own event loop."""
    return await asyncio.to_thread(main, argv)
