"""Lineage reads: the links at either end of agreements, a lineage's first sight. (The
APIs read lineage through the declarations: `db/entities/agreement_link.py`.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class LinkRecord:
    predecessor_id: int
    successor_id: int
    method: str
    score: float | None
    evidence: str
    kind: str = "RENAME"  # RENAME, RELISTING, STATE or SWITCH
    gap_days: int | None = None


async def links_of(conn: AsyncConnection, ids: Iterable[int]) -> list[LinkRecord]:
    """Every link with one of these agreements at either end."""
    rows = await conn.execute(
        text(
            "SELECT predecessor_id, successor_id, method, score, evidence, kind, gap_days"
            " FROM agreement_links"
            " WHERE predecessor_id = ANY(CAST(:ids AS bigint[]))"
            "    OR successor_id = ANY(CAST(:ids AS bigint[]))"
        ),
        {"ids": sorted(set(ids))},
    )
    return [LinkRecord(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]


async def lineage_first_seen(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, dt.date]:
    """The first publication date of each agreement's lineage: its own `firstSeen` or an
    earlier one of any predecessor (a rename does not restart the history; a model switch
    starts a new agreement), as the loads stored it (`agreements.lineage_first_seen`)."""
    rows = await conn.execute(
        text(
            "SELECT id, lineage_first_seen FROM agreements WHERE id = ANY(CAST(:ids AS bigint[]))"
        ),
        {"ids": sorted(set(ids))},
    )
    return {int(r[0]): r[1] for r in rows}
