"""Where API reads go: the read replica (DATABASE_REPLICA_URL) while it answers, else the
primary, and how far the replica is behind.

A hot standby is a copy of the primary that may lag and may disappear. Reads must not fail
because of either: `ReadRouter` probes the replica every `CHECK_SECONDS` (and at once when
a request saw a database error, see `web/failover.py`), points the app's read engine at the
primary while the replica does not answer, and back at the replica when it answers again.
A lagging replica still serves: what it serves is consistent (every answer carries the data
version it was read at), only older; its lag is published in /metrics and /readyz.

The router swaps `state.engine` (the app's `app.state.engine`, which every route reads once
per connection it opens), so one request's reads stay on one server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # how often the replica is probed in the background
PROBE_TIMEOUT_SECONDS = 1.0  # a replica that takes longer to answer a probe is out
RECENT_PROBE_SECONDS = 0.25  # a request-triggered probe reuses one this fresh

_REPLICA_PROBE = text(
    "SELECT pg_is_in_recovery(), CAST(pg_last_wal_replay_lsn() AS text),"
    " CASE WHEN NOT pg_is_in_recovery()"
    "   OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    "  ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END,"
    " (SELECT coalesce(max(seq), 0) FROM changes)"
)
_PRIMARY_PROBE = text(
    "SELECT CAST(pg_current_wal_lsn() AS text), (SELECT coalesce(max(seq), 0) FROM changes)"
)


def lsn_bytes(lsn: str) -> int:
    """A PostgreSQL LSN (`16/B374D848`) as a byte position."""
    high, _, low = lsn.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


@dataclass
class ReplicaState:
    """What the last probe found. Lags are None when they could not be measured."""

    up: bool = True
    in_recovery: bool | None = None
    lag_bytes: int | None = None  # WAL the primary wrote that the replica has not replayed
    lag_seconds: float | None = None  # age of the last replayed commit while WAL waits
    replica_version: int | None = None  # data version the replica has replayed
    primary_version: int | None = None
    checked_at: float | None = None  # time.monotonic() of the probe
    error: str | None = None
    failovers: int = 0  # times reads moved to the primary


class ReadRouter:
    """Holds the primary and replica engines and decides which one serves reads."""

    def __init__(self, state: Any, primary: AsyncEngine, replica: AsyncEngine) -> None:
        self.state = state  # app.state: its `engine` is what routes read from
        self.primary = primary
        self.replica = replica
        self.replica_state = ReplicaState()
        self._probe: asyncio.Task[bool] | None = None
        self._monitor: asyncio.Task[None] | None = None
        state.engine = replica

    @property
    def serving(self) -> Literal["replica", "primary"]:
        return "replica" if self.state.engine is self.replica else "primary"

    def start(self) -> None:
        self._monitor = asyncio.create_task(self._watch(), name="replica-monitor")

    async def stop(self) -> None:
        for task in (self._monitor, self._probe):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.primary.dispose()
        await self.replica.dispose()

    async def _watch(self) -> None:
        while True:
            await self.check(max_age=0.0)
            await asyncio.sleep(CHECK_SECONDS)

    async def check(self, max_age: float = RECENT_PROBE_SECONDS) -> bool:
        """Probe the replica (one probe at a time, shared by every caller; a probe younger
        than `max_age` is reused) and route reads accordingly; True when it answers."""
        checked = self.replica_state.checked_at
        if checked is not None and time.monotonic() - checked < max_age:
            return self.replica_state.up
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._run_probe())
        return await asyncio.shield(self._probe)

    async def _run_probe(self) -> bool:
        state = self.replica_state
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self.replica.connect() as conn:
                in_recovery, replay_lsn, lag_seconds, version = (
                    await conn.execute(_REPLICA_PROBE)
                ).one()
        except Exception as exc:  # any failure to answer means: read from the primary
            state.error = type(exc).__name__
            state.checked_at = time.monotonic()
            self._route(up=False)
            return False
        # Measured into locals and published together: /metrics and /readyz read this
        # state while a probe awaits the primary, and must never see the lag half-updated.
        lag_bytes: int | None = None
        primary_version: int | None = None
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS), self.primary.connect() as conn:
                primary_lsn, primary_version = (await conn.execute(_PRIMARY_PROBE)).one()
            if in_recovery and replay_lsn is not None:
                lag_bytes = max(0, lsn_bytes(primary_lsn) - lsn_bytes(replay_lsn))
            elif not in_recovery:
                lag_bytes = 0  # "replica" is a primary itself (or a promoted one)
        except Exception:  # the primary out: the replica still serves; lag unknown
            primary_version = None
        state.in_recovery = bool(in_recovery)
        state.lag_seconds = float(lag_seconds) if lag_seconds is not None else None
        state.replica_version = int(version)
        state.error = None
        state.lag_bytes = lag_bytes
        state.primary_version = None if primary_version is None else int(primary_version)
        state.checked_at = time.monotonic()
        self._route(up=True)
        return True

    def _route(self, *, up: bool) -> None:
        state = self.replica_state
        if up and self.state.engine is not self.replica:
            logger.warning("read replica answers again; reading from it")
            self.state.engine = self.replica
        elif not up and self.state.engine is not self.primary:
            logger.warning("read replica unavailable (%s); reading from the primary", state.error)
            state.failovers += 1
            self.state.engine = self.primary
        state.up = up

    def status(self) -> dict[str, Any]:
        """For /readyz: where reads go and how far behind the replica is."""
        state = self.replica_state
        checked = state.checked_at
        return {
            "state": "ok" if state.up else "unavailable",
            "serving_reads_from": self.serving,
            "lag_bytes": state.lag_bytes,
            "lag_seconds": state.lag_seconds,
            "replica_data_version": state.replica_version,
            "primary_data_version": state.primary_version,
            "checked_seconds_ago": None
            if checked is None
            else round(time.monotonic() - checked, 3),
            "failovers": state.failovers,
            **({"error": state.error} if state.error else {}),
        }
