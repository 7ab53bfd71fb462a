"""Data-version announcements: every transaction that records changes NOTIFYs
`CHANNEL` (`db/ingest/provenance.py::record_changes`); PostgreSQL delivers it to every
listener when, and only if, that transaction commits. Each API process LISTENs on the
primary, so a committed load reaches every process at once instead of up to
OPEN287G_VERSION_CHECK_SECONDS later (that periodic check stays as the fallback while the
listening connection is down).

A hot standby delivers no notifications, so the listener always talks to the primary; what
it learns is only a *target* (the primary's version). Processes reading from a replica keep
serving the version the replica has replayed until it reaches that target
(`web/cache.py::VersionClock`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

logger = logging.getLogger(__name__)

CHANNEL = "open287g_data_version"
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)  # back-off while the primary is away
PING_SECONDS = 10.0  # an idle listening connection is checked this often
PING_TIMEOUT_SECONDS = 5.0
_LATEST = "SELECT coalesce(max(seq), 0) FROM changes"


async def announce(conn: AsyncConnection) -> None:
    """Queue the notification in the caller's transaction (sent on commit, never on a
    rollback; several in one transaction are delivered once)."""
    await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


class VersionListener:
    """One LISTENing connection per process, reconnected whenever it drops; calls
    `on_version` with the primary's data version on every notification and on every
    (re)connect (a load may have committed while it was away)."""

    def __init__(self, url: URL, on_version: Callable[[int], None]) -> None:
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.on_version = on_version
        self.connected = False
        self.announcements = 0  # versions read on notification or (re)connect
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="version-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the primary away: the periodic check covers it
                if failures == 0:
                    logger.warning(
                        "LISTEN on the primary failed (%s); retrying", type(exc).__name__
                    )
                failures += 1
            self.connected = False
            await asyncio.sleep(RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)])

    async def _listen(self) -> None:
        conn: Any = await asyncpg.connect(self.dsn, timeout=5, server_settings={"jit": "off"})
        lost = asyncio.Event()
        try:
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANNEL, lambda *_args: self._wake.set())
            self.connected = True
            self._wake.set()  # read the version once now: loads may have committed meanwhile
            while not lost.is_set():
                woke = asyncio.create_task(self._wake.wait())
                gone = asyncio.create_task(lost.wait())
                try:
                    done, _ = await asyncio.wait(
                        {woke, gone}, timeout=PING_SECONDS, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    woke.cancel()
                    gone.cancel()
                if not done:  # a primary gone without a word must not leave us deaf
                    await asyncio.wait_for(conn.fetchval("SELECT 1"), PING_TIMEOUT_SECONDS)
                    continue
                if self._wake.is_set() and not lost.is_set():
                    self._wake.clear()
                    self.announcements += 1
                    self.on_version(int(await conn.fetchval(_LATEST)))
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=1)
