"""An agreement's observations: every ICE list that named it, with the values that row
gave and the file it came from (dataset id, name, sha256). Read here for REST
(`/v1/agreements/{id}/observations`); GraphQL's `Agreement.observations` is declared in
`db/entities/observation.py` with the same order, cursors and cursor checks (`AFTER`,
`after_values`).

Order: publication time, then fetch time (ICE re-issued some lists the same half-day),
then snapshot id; the same order every "latest list" rule uses. Keyset cursors over that
order, so pages never shift when an older snapshot is loaded later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.pagination import BadCursor, Keyset, Page, decode_cursor, encode_cursor

ORDERING = "observations"


@dataclass(frozen=True)
class ObservationRecord:
    agreement_id: int
    snapshot_id: int
    kind: str  # PARTICIPATING or PENDING
    published_on: dt.date
    published_at: dt.datetime
    dataset_id: int  # source_files.id: the /v1/datasets id
    file_name: str
    sha256: str
    fetched_at: dt.datetime
    row_number: int
    agency_name: str  # as the row wrote it
    agency_type: str
    county: str | None
    signed_on: dt.date | None
    signed_raw: str | None
    moa_url: str | None
    addendum_urls: list[str]

    @property
    def cursor(self) -> str:
        value = f"{self.published_at.isoformat()}|{self.fetched_at.isoformat()}"
        return encode_cursor(ORDERING, value, self.snapshot_id)


_SELECT = """
SELECT * FROM (
    SELECT o.agreement_id, s.id, CAST(s.kind AS text), s.published_on, s.published_at, f.id,
           f.name, f.sha256, f.fetched_at, o.row_number, o.agency_name,
           CAST(o.agency_type AS text), o.county, o.signed_on, o.signed_raw, o.moa_url,
           o.addendum_urls,
           row_number() OVER (PARTITION BY o.agreement_id
                              ORDER BY s.published_at, f.fetched_at, s.id) AS rn
    FROM agreement_observations o
    JOIN snapshots s ON s.id = o.snapshot_id
    JOIN source_files f ON f.id = s.source_file_id
    WHERE o.agreement_id = ANY(CAST(:ids AS bigint[])) AND {after}
) x WHERE rn <= :limit ORDER BY agreement_id, rn
"""


# The rows after a cursor, over (publication time, fetch time, snapshot id) columns.
AFTER = "({published}, {fetched}, {snapshot}) > (:after_published, :after_fetched, :after_id)"


def after_values(keyset: Keyset) -> dict[str, object]:
    """The parameters of `AFTER` for a decoded cursor (BadCursor if its value is not the
    "published|fetched" pair of timestamps this API writes)."""
    try:
        published, fetched = str(keyset.value).split("|")
        values = dt.datetime.fromisoformat(published), dt.datetime.fromisoformat(fetched)
    except ValueError as exc:
        raise BadCursor("cursor is not one this API issued") from exc
    if any(v.tzinfo is None for v in values):
        raise BadCursor("cursor is not one this API issued")
    return {"after_published": values[0], "after_fetched": values[1], "after_id": keyset.id}


def _after(after: str | None) -> tuple[str, dict[str, object]]:
    if not after:
        return "true", {}
    condition = AFTER.format(published="s.published_at", fetched="f.fetched_at", snapshot="s.id")
    return condition, after_values(decode_cursor(after, ORDERING))


async def observation_pages(
    conn: AsyncConnection, agreement_ids: Sequence[int], first: int, after: str | None
) -> dict[int, Page[ObservationRecord]]:
    """One page (`first` after the cursor) of each agreement's observations, in one
    statement: a GraphQL page of agreements asking for observations costs one query."""
    condition, params = _after(after)
    rows = await conn.execute(
        text(_SELECT.format(after=condition)),
        {"ids": sorted(set(agreement_ids)), "limit": first + 1, **params},
    )
    found: dict[int, list[ObservationRecord]] = {i: [] for i in agreement_ids}
    for row in rows:
        found[row[0]].append(ObservationRecord(*row[:-1]))
    return {
        agreement: Page(items[:first], len(items) > first, [r.cursor for r in items[:first]])
        for agreement, items in found.items()
    }


async def observation_page(
    conn: AsyncConnection, agreement_id: int, first: int, after: str | None
) -> Page[ObservationRecord]:
    return (await observation_pages(conn, [agreement_id], first, after))[agreement_id]
