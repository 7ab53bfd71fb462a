"""What a source's removal step works on and reports (the frame: `db/ingest/removal.py`).

A step deletes its own source's rows derived from the files being removed (by file id or
load run id), appends each vanished record to `tombstones` (with a summary in words where
one helps) and leaves the survivors to re-derive in `agencies`/`facilities`. It never
removes the files, the runs or shared jurisdictions: the frame does, once for all sources.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

IDS = "CAST(:ids AS bigint[])"


@dataclass
class Removed:
    """What a removal did: source files removed, records deleted and re-derived, by entity."""

    files: list[int] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        deleted = ", ".join(f"{e} {n}" for e, n in sorted(self.deleted.items()) if n) or "none"
        updated = ", ".join(f"{e} {n}" for e, n in sorted(self.updated.items()) if n) or "none"
        return f"{len(self.files)} file(s) removed; deleted: {deleted}; re-derived: {updated}"


@dataclass
class Removal:
    """One removal in progress (one transaction)."""

    conn: AsyncConnection
    files: list[int]  # source file ids
    runs: list[int]  # their load run ids
    tombstones: dict[str, list[int]] = field(default_factory=dict)  # entity → deleted ids
    summaries: dict[tuple[str, int], str] = field(default_factory=dict)  # what happened
    agencies: set[int] = field(default_factory=set)  # agencies that stay, to re-derive
    facilities: set[int] = field(default_factory=set)  # facilities that stay, totals changed

    async def ids(self, sql: str, **params: object) -> list[int]:
        return [int(i) for i in (await self.conn.execute(text(sql), params)).scalars()]

    def gone(self, entity: str, ids: list[int]) -> None:
        self.tombstones.setdefault(entity, []).extend(ids)

    async def delete_rows_of_runs(self, table: str, entity: str) -> None:
        """Delete the rows of `table` the removed runs wrote (by load_run_id), each gone as
        a record of `entity`."""
        sql = f"DELETE FROM {table} WHERE load_run_id = ANY({IDS}) RETURNING id"
        self.gone(entity, await self.ids(sql, ids=self.runs))


RemovalStep = Callable[[Removal], Awaitable[None]]


async def rows_go_with_their_runs(removal: Removal) -> None:
    """A source whose rows reference their load run `ON DELETE CASCADE` (the overrides)."""
