"""How current the data is with ICE (`open287g sync`'s record): /readyz's `freshness`,
/metrics and /v1/quality read it here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.config import Settings


@dataclass(frozen=True)
class QuarantinedFile:
    name: str
    url: str
    sha256: str
    kind: str | None
    published_on: dt.date | None
    downloaded_at: dt.datetime
    reason: str | None
    superseded: bool  # a later list of its kind has been loaded since

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "sha256": self.sha256,
            "kind": self.kind,
            "published_on": self.published_on.isoformat() if self.published_on else None,
            "downloaded_at": self.downloaded_at.isoformat(),
            "reason": self.reason,
            "superseded": self.superseded,
        }


@dataclass(frozen=True)
class Freshness:
    last_check_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    failed_checks: int = 0
    last_error: str | None = None
    last_list_date: dt.date | None = None
    quarantined: list[QuarantinedFile] = field(default_factory=list)

    def open_quarantine(self) -> list[QuarantinedFile]:
        return [q for q in self.quarantined if not q.superseded]

    def status(self, rule: StaleRule, now: dt.datetime | None = None) -> str:
        """never (no sync has run), ok, failing (a pass failed) or stale: `rule.passes`
        passes in a row failed, or no pass succeeded for that many intervals (a sync that
        stopped running fails no pass). ICE may have published lists we do not serve."""
        if self.last_check_at is None:
            return "never"
        if self.failed_checks >= rule.passes:
            return "stale"
        since = (now or dt.datetime.now(dt.UTC)) - (self.last_success_at or self.last_check_at)
        if since > rule.window:
            return "stale"
        return "failing" if self.failed_checks else "ok"

    def as_json(self, rule: StaleRule) -> dict[str, Any]:
        return {
            "status": self.status(rule),
            "last_check": _iso(self.last_check_at),
            "last_success": _iso(self.last_success_at),
            "failed_checks": self.failed_checks,
            "stale_after": rule.passes,
            "last_error": self.last_error,
            "last_list_date": _iso(self.last_list_date),
            "quarantined_files": [q.as_json() for q in self.open_quarantine()],
        }


@dataclass(frozen=True)
class StaleRule:
    """When the data is stale: OPEN287G_SYNC_STALE_AFTER failed passes, or as many
    intervals (OPEN287G_SYNC_EVERY, with the jitter's 10%) without a good one."""

    passes: int
    every: dt.timedelta

    @classmethod
    def of(cls, settings: Settings) -> StaleRule:
        return cls(settings.sync_stale_after, dt.timedelta(minutes=settings.sync_every_minutes))

    @property
    def window(self) -> dt.timedelta:
        return self.every * self.passes * 1.1


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


QUARANTINE_LIMIT = 100  # the newest; the archive and the table keep them all

_QUARANTINED = """
SELECT q.name, q.url, q.sha256, q.kind, q.published_on, q.downloaded_at, q.reason,
       EXISTS (SELECT 1 FROM sync_files l WHERE l.status = 'loaded' AND l.kind = q.kind
               AND l.downloaded_at > q.downloaded_at) AS superseded
FROM sync_files q WHERE q.status = 'quarantined'
ORDER BY q.downloaded_at DESC LIMIT :limit
"""


async def freshness(conn: AsyncConnection) -> Freshness:
    state = (
        await conn.execute(
            text("SELECT last_check_at, last_success_at, failed_checks, last_error FROM sync_state")
        )
    ).one_or_none()
    last_list = (await conn.execute(text("SELECT max(published_on) FROM snapshots"))).scalar()
    quarantined = [
        QuarantinedFile(*row)
        for row in await conn.execute(text(_QUARANTINED), {"limit": QUARANTINE_LIMIT})
    ]
    if state is None:
        return Freshness(last_list_date=last_list, quarantined=quarantined)
    return Freshness(state[0], state[1], int(state[2]), state[3], last_list, quarantined)
