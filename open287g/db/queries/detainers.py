"""Detainer statistics: grouped sums in SQL, then small-cell suppression.

Privacy rule (SPEC "Domain"): in a breakdown by a personal attribute (criminality,
citizenship), a count from 1 to `min_cell - 1` is published as null and flagged. Within one
breakdown (rows sharing every non-personal key), a lone suppressed count could be recovered
by subtracting the others from the total, so the next-smallest count of the same measure is
suppressed with it (complementary suppression).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.queries.bounds import check_filter, check_list
from open287g.db.queries.pagination import contains_pattern


class DetainerDimension(enum.StrEnum):
    STATE = "STATE"
    FACILITY = "FACILITY"
    MONTH = "MONTH"
    OUTCOME = "OUTCOME"
    CRIMINALITY = "CRIMINALITY"
    CITIZENSHIP = "CITIZENSHIP"


PERSONAL_DIMENSIONS = frozenset({DetainerDimension.CRIMINALITY, DetainerDimension.CITIZENSHIP})
MEASURES = ("issued", "declined", "booked_into_detention", "pending")

_DIMENSION_SQL: dict[DetainerDimension, str] = {
    DetainerDimension.STATE: "f.state_code",
    DetainerDimension.FACILITY: "f.name",
    DetainerDimension.MONTH: "s.month",
    DetainerDimension.OUTCOME: "CAST(s.outcome AS text)",
    DetainerDimension.CRIMINALITY: "s.criminality",
    DetainerDimension.CITIZENSHIP: "s.citizenship",
}


@dataclass(frozen=True)
class DetainerFilter:
    state: str | None = None  # USPS code, already resolved by the caller
    facility: str | None = None  # case-insensitive substring of the facility name
    start: dt.date | None = None  # first month included
    end: dt.date | None = None  # last month included
    jurisdiction_id: int | None = None  # facilities matched to this county

    def __post_init__(self) -> None:
        check_filter(self)


@dataclass
class DetainerStatRow:
    key: dict[DetainerDimension, object]
    issued: int | None
    declined: int | None
    booked_into_detention: int | None
    pending: int | None
    suppressed: bool = False
    suppressed_measures: set[str] = field(default_factory=set)

    @property
    def decline_rate(self) -> float | None:
        """declined / (issued − pending); unknown when a part is suppressed or zero."""
        if self.issued is None or self.declined is None or self.pending is None:
            return None
        decided = self.issued - self.pending
        return self.declined / decided if decided > 0 else None


async def detainer_stats(
    conn: AsyncConnection,
    group_by: Sequence[DetainerDimension],
    filters: DetainerFilter,
    *,
    min_cell: int,
) -> list[DetainerStatRow]:
    return [
        row
        async for batch in detainer_stat_batches(conn, group_by, filters, min_cell=min_cell)
        for row in batch
    ]


async def detainer_stat_batches(
    conn: AsyncConnection,
    group_by: Sequence[DetainerDimension],
    filters: DetainerFilter,
    *,
    min_cell: int,
    batch_rows: int = 2000,
) -> AsyncIterator[list[DetainerStatRow]]:
    """Grouped sums streamed from a server-side cursor, suppressed a breakdown at a time.

    Rows come ordered by the non-personal keys first, so each breakdown (the rows that
    share those keys) is complete when the keys change: memory holds one breakdown and one
    batch, whatever the number of rows (exports of every cell stay in constant memory)."""
    check_list("group_by", group_by)
    requested = list(dict.fromkeys(group_by))
    breakdown = [d for d in requested if d not in PERSONAL_DIMENSIONS]
    dimensions = breakdown + [d for d in requested if d in PERSONAL_DIMENSIONS]
    personal = len(dimensions) != len(breakdown)
    selected = [f"{_DIMENSION_SQL[d]} AS d{i}" for i, d in enumerate(dimensions)]
    where, params = _where(filters)
    grouping = ", ".join(f"d{i}" for i in range(len(dimensions)))
    sql = (
        f"SELECT {', '.join([*selected, ''])}"  # SQL from constants only
        " sum(s.count) AS issued,"
        " coalesce(sum(s.count) FILTER (WHERE s.outcome = 'DECLINED_BY_AGENCY'), 0),"
        " coalesce(sum(s.count) FILTER (WHERE s.outcome = 'BOOKED_INTO_DETENTION'), 0),"
        " coalesce(sum(s.count) FILTER (WHERE s.outcome = 'PENDING'), 0)"
        " FROM detainer_stats s JOIN detainer_facilities f ON f.id = s.facility_id"
        f" WHERE {where}" + (f" GROUP BY {grouping} ORDER BY {grouping}" if dimensions else "")
    )
    ready: list[DetainerStatRow] = []
    group: list[DetainerStatRow] = []
    group_key: tuple[object, ...] | None = None
    result = await conn.stream(text(sql), params)
    async for row in result:
        stat = DetainerStatRow(
            key=dict(zip(dimensions, row[: len(dimensions)], strict=True)),
            issued=int(row[-4] or 0),
            declined=int(row[-3]),
            booked_into_detention=int(row[-2]),
            pending=int(row[-1]),
        )
        key = tuple(row[: len(breakdown)])
        if group and key != group_key:
            if personal:
                suppress(group, breakdown, min_cell)
            ready.extend(group)
            group = []
            if len(ready) >= batch_rows:
                yield ready
                ready = []
        group_key = key
        group.append(stat)
    if personal:
        suppress(group, breakdown, min_cell)
    ready.extend(group)
    if ready:
        yield ready


def _where(filters: DetainerFilter) -> tuple[str, dict[str, object]]:
    clauses: list[str] = ["true"]
    params: dict[str, object] = {}
    if filters.state:
        clauses.append("f.state_code = :state")
        params["state"] = filters.state
    if filters.facility:
        clauses.append("f.name ILIKE :facility ESCAPE '\\'")
        params["facility"] = contains_pattern(filters.facility)
    if filters.jurisdiction_id is not None:
        clauses.append("f.jurisdiction_id = :jurisdiction_id")
        params["jurisdiction_id"] = filters.jurisdiction_id
    if filters.start:
        clauses.append("s.month >= :start")
        params["start"] = filters.start.replace(day=1)
    if filters.end:
        clauses.append("s.month <= :end")
        params["end"] = filters.end.replace(day=1)
    return " AND ".join(clauses), params


def suppress(
    rows: list[DetainerStatRow], breakdown_keys: Sequence[DetainerDimension], min_cell: int
) -> None:
    """Primary suppression of small counts, then complementary suppression per breakdown."""
    groups: defaultdict[tuple[object, ...], list[DetainerStatRow]] = defaultdict(list)
    for row in rows:
        groups[tuple(row.key[d] for d in breakdown_keys)].append(row)
    for measure in MEASURES:
        for row in rows:
            value = getattr(row, measure)
            if value is not None and 0 < value < min_cell:
                _hide(row, measure)
        for members in groups.values():
            hidden = [r for r in members if measure in r.suppressed_measures]
            if len(hidden) != 1:
                continue
            visible = [r for r in members if measure not in r.suppressed_measures
                       and (getattr(r, measure) or 0) > 0]  # fmt: skip
            if visible:
                _hide(min(visible, key=lambda r: getattr(r, measure)), measure)


def _hide(row: DetainerStatRow, measure: str) -> None:
    setattr(row, measure, None)
    row.suppressed_measures.add(measure)
    row.suppressed = True
