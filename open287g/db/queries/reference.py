"""Program models and datasets (the provenance of every number served)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class ProgramModelRecord:
    code: str
    name: str
    description: str
    legal_basis: str


@dataclass(frozen=True)
class DatasetRecord:
    """One source file and the load run that brought it in."""

    id: int
    dataset: str
    name: str
    url: str | None
    sha256: str
    bytes: int
    fetched_at: dt.datetime
    snapshot_kind: str | None
    snapshot_date: dt.date | None
    is_demo: bool
    is_synthetic: bool
    load_run_id: int
    loaded_at: dt.datetime
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    ended: int
    rejected: int
    repaired: int
    coverage_start: dt.date | None = None  # a detainer release's first detainer date
    coverage_end: dt.date | None = None  # and its last

    @property
    def partial_months(self) -> dict[dt.date, str]:
        """A detainer release's first or last month when its rows start after the 1st or
        stop before the month's end: {month: "from 3 Sep" / "through 14 Oct"}."""
        partial: dict[dt.date, str] = {}
        if self.coverage_start is not None and self.coverage_start.day != 1:
            partial[self.coverage_start.replace(day=1)] = f"from {self.coverage_start:%-d %b %Y}"
        end = self.coverage_end
        if end is not None and (end + dt.timedelta(days=1)).day != 1:
            month = end.replace(day=1)
            through = f"through {end:%-d %b %Y}"
            partial[month] = f"{partial[month]} {through}" if month in partial else through
        return partial


async def program_models(conn: AsyncConnection) -> list[ProgramModelRecord]:
    rows = await conn.execute(
        text("SELECT code, name, description, legal_basis FROM program_models ORDER BY sort_order")
    )
    return [ProgramModelRecord(*row) for row in rows]


async def datasets(conn: AsyncConnection) -> list[DatasetRecord]:
    rows = await conn.execute(
        text(
            "SELECT f.id, f.dataset, f.name, f.url, f.sha256, f.bytes, f.fetched_at,"
            " CAST(f.snapshot_kind AS text), f.snapshot_date, f.is_demo, f.is_synthetic,"
            " r.id, r.finished_at, r.rows_read, r.inserted, r.updated, r.unchanged, r.ended,"
            " r.rejected, r.repaired, f.coverage_start, f.coverage_end"
            " FROM source_files f JOIN load_runs r ON r.source_file_id = f.id ORDER BY f.id"
        )
    )
    return [DatasetRecord(*row) for row in rows]


async def files_per_dataset(conn: AsyncConnection) -> dict[str, int]:
    """How many source files each dataset has loaded: a page says a section's data is not
    loaded (no detainer release, no MOA document) instead of promising it."""
    rows = await conn.execute(text("SELECT dataset, count(*) FROM source_files GROUP BY 1"))
    return {str(r[0]): int(r[1]) for r in rows}


async def data_version(conn: AsyncConnection) -> int:
    """Grows whenever a load changes anything: keys caches and ETags."""
    return int((await conn.execute(text("SELECT coalesce(max(seq), 0) FROM changes"))).scalar_one())
