"""The change sequence that sync clients follow, and the data version it defines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class ChangeRecord:
    seq: int
    entity: str
    entity_id: int
    op: str
    changed_at: dt.datetime


@dataclass(frozen=True)
class DataVersion:
    """`version` grows with every change a load makes; `modified` is when that happened."""

    version: int
    modified: dt.datetime | None
    oldest_retained: int  # seq of the oldest change still kept (0 when none)
    notice: str | None = None  # set when demo or synthetic data is loaded


DEMO_NOTICE = "DEMO DATA: this service holds invented demo records; they are not real."
SYNTHETIC_NOTICE = "SYNTHETIC DATA: this service holds synthetic test records; not real."


async def data_version(conn: AsyncConnection) -> DataVersion:
    row = (
        await conn.execute(
            text(
                "SELECT coalesce(max(seq), 0), max(changed_at), coalesce(min(seq), 0),"
                " (SELECT bool_or(is_demo) FROM source_files),"
                " (SELECT bool_or(is_synthetic) FROM source_files)"
                " FROM changes"
            )
        )
    ).one()
    notice = DEMO_NOTICE if row[3] else SYNTHETIC_NOTICE if row[4] else None
    return DataVersion(int(row[0]), row[1], int(row[2]), notice)


async def changes_since(conn: AsyncConnection, since: int, limit: int) -> list[ChangeRecord]:
    rows = await conn.execute(
        text(
            "SELECT seq, entity, entity_id, CAST(op AS text), changed_at FROM changes"
            " WHERE seq > :since ORDER BY seq LIMIT :limit"
        ),
        {"since": since, "limit": limit},
    )
    return [ChangeRecord(*row) for row in rows]
