"""Write officials: match each to its agency by state + folded name, upsert by identity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.provenance import IssueRecord, LoadCounts, record_changes
from open287g.db.ingest.removed import Removal
from open287g.db.models.enums import ChangeOp, IssueAction


@dataclass(frozen=True)
class OfficialRow:
    row_number: int
    state_code: str
    agency: str
    agency_key: str
    name: str
    official_key: str
    title: str | None
    term_start: dt.date | None
    term_end: dt.date | None
    source_url: str | None


_UPSERT_OFFICIAL = """
INSERT INTO officials (agency_id, name, official_key, title, term_start, term_end,
    source_url, load_run_id)
SELECT a.id, :name, :official_key, :title, :term_start, :term_end, :source_url, :run
FROM agencies a WHERE a.state_code = :state AND a.name_key = :agency_key
ON CONFLICT (agency_id, official_key) DO UPDATE
SET name = EXCLUDED.name, title = EXCLUDED.title, term_end = EXCLUDED.term_end,
    source_url = EXCLUDED.source_url, load_run_id = EXCLUDED.load_run_id
WHERE (officials.name, officials.title, officials.term_end, officials.source_url)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.title, EXCLUDED.term_end, EXCLUDED.source_url)
RETURNING id, (xmax = 0) AS inserted
"""

_AGENCY_EXISTS = "SELECT 1 FROM agencies WHERE state_code = :state AND name_key = :agency_key"


async def merge_officials(
    conn: AsyncConnection, run_id: int, rows: Sequence[OfficialRow], issues: list[IssueRecord]
) -> LoadCounts:
    """Rows whose agency is not (yet) in the lists are reported as rejected, never dropped
    silently: load the ICE lists first, or fix the agency name."""
    counts = LoadCounts()
    changed: list[int] = []
    for row in rows:
        params = {
            "state": row.state_code,
            "agency_key": row.agency_key,
            "name": row.name,
            "official_key": row.official_key,
            "title": row.title,
            "term_start": row.term_start,
            "term_end": row.term_end,
            "source_url": row.source_url,
            "run": run_id,
        }
        result = (await conn.execute(text(_UPSERT_OFFICIAL), params)).one_or_none()
        if result is not None:
            changed.append(result.id)
            counts.inserted += int(result.inserted)
            counts.updated += int(not result.inserted)
        elif (await conn.execute(text(_AGENCY_EXISTS), params)).first() is None:
            issues.append(
                IssueRecord(
                    row.row_number,
                    "agency",
                    IssueAction.REJECTED,
                    f"no agency of that name in {row.state_code}",
                    row.agency,
                )
            )
        else:
            counts.unchanged += 1
    await record_changes(conn, run_id, "official", changed, ChangeOp.UPSERT)
    return counts


async def remove_officials(removal: Removal) -> None:
    """The removal of officials CSVs: the officials their runs wrote."""
    await removal.delete_rows_of_runs("officials", "official")
