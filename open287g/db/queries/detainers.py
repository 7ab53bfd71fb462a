"""Detainer statistics, both APIs: exact totals, and rounded breakdowns by personal attributes.

Disclosure control (README "Disclosure control"). Every number either API publishes is a
sum over one of two fixed tables (migrations 0008, 0013), so no pair of queries can learn more
than those tables hold:

- without a personal attribute (state, facility, month, outcome): sums of the exact
  `detainer_totals` (facility × month × outcome);
- with one (criminality, citizenship): sums of the finest cells (facility × month × outcome
  × criminality × citizenship) after each is **rounded** to a multiple of the base
  (`OPEN287G_MIN_CELL`). Rounding is controlled within each facility × month × outcome
  group: cells are taken in a keyed-random order and rounded by systematic sampling from a
  keyed-random offset, so each cell rounds up with probability remainder / base and the
  group's rounded sum is its exact total rounded down or up to the base. The only layout
  in which the exact total would then pin a cell down — a group of one cell, rounded up
  from a count ≡ 1 (mod base) — is rounded down instead.

Because every published personal count is a sum of rounded cells, differences between
any queries (margins, date ranges, facility or state filters, either API) are sums of
rounded cells too; with the exact totals they bound each cell to an interval, never to a
value (proof sketch in the README; tested in tests/test_disclosure.py).

Filters select whole facilities and whole months, so they never split a rounding group;
a filter on a personal attribute would, and would have to be applied after rounding.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

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

# Field descriptions both APIs publish (GraphQL schema, OpenAPI).
ROUNDED_DESCRIPTION = (
    "True in a breakdown by a personal attribute (criminality, citizenship): each count is a "
    "sum of cells randomly rounded to multiples of OPEN287G_MIN_CELL (unbiased; each cell "
    "off by less than that base), the same in every query, so no count from 1 to the base "
    "minus 1 is published or can be worked out exactly by combining queries; cells that "
    "round to 0 are not listed. False: the counts are exact."
)
SUPPRESSED_DESCRIPTION = (
    "Always false: counts are no longer withheld; small cells are rounded (see rounded)."
)
DECLINE_RATE_DESCRIPTION = (
    "declined / (issued − pending), from the published counts (rounded when rounded is true)."
)

# Column names of the `published` rows both queries below select from.
_DIMENSION_SQL: dict[DetainerDimension, str] = {
    DetainerDimension.STATE: "state_code",
    DetainerDimension.FACILITY: "facility",
    DetainerDimension.MONTH: "month",
    DetainerDimension.OUTCOME: "CAST(outcome AS text)",
    DetainerDimension.CRIMINALITY: "criminality",
    DetainerDimension.CITIZENSHIP: "citizenship",
}

_MEASURES_SQL = (
    "sum(value) AS issued,"
    " coalesce(sum(value) FILTER (WHERE outcome = 'DECLINED_BY_AGENCY'), 0) AS declined,"
    " coalesce(sum(value) FILTER (WHERE outcome = 'BOOKED_INTO_DETENTION'), 0)"
    " AS booked_into_detention,"
    " coalesce(sum(value) FILTER (WHERE outcome = 'PENDING'), 0) AS pending"
)

_EXACT = """
WITH published AS (
    SELECT f.state_code, f.name AS facility, s.month, s.outcome, s.detainers AS value
    FROM detainer_totals s JOIN detainer_facilities f ON f.id = s.facility_id
    WHERE {where}
)
"""

# Systematic rounding within each group g = facility × month × outcome: with remainders
# r = n mod b taken in rank order (a keyed hash) and cumulative sums R, a cell rounds up
# when an integer lies in ((R − r)/b + u, R/b + u], u the group's keyed offset in [0, 1).
# The primary key is (facility, month, outcome, rank): no sort is needed. A lone cell of
# n ≡ 1 (mod b) rounded up would be pinned by the exact total (n = p − b + 1), so it is
# rounded down; no other layout can be pinned (README "Disclosure control").
_ROUNDED = """
WITH ranked AS (
    SELECT f.state_code, f.name AS facility, s.month, s.outcome, s.criminality,
           s.citizenship, s.detainers AS n, s.detainers % :base AS r, s.alone,
           sum(s.detainers % :base) OVER (
               PARTITION BY s.facility_id, s.month, s.outcome ORDER BY s.rank
               ROWS UNBOUNDED PRECEDING
           ) AS upto,
           s.group_offset AS u
    FROM detainer_cells s JOIN detainer_facilities f ON f.id = s.facility_id
    WHERE {where}
), rounded AS (
    SELECT ranked.*,
           n - r + :base * CAST(floor(CAST(upto AS float8) / :base + u)
                                - floor(CAST(upto - r AS float8) / :base + u) AS int) AS p
    FROM ranked
), published AS (
    SELECT state_code, facility, month, outcome, criminality, citizenship,
           CASE WHEN alone AND :base > 1 AND p = n + :base - 1 THEN p - :base ELSE p END
               AS value
    FROM rounded
)
"""


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
    rounded: bool = False  # sums of cells rounded to multiples of the base, not exact
    suppressed: bool = False  # a count withheld (null); no longer happens (see rounded)

    @property
    def decline_rate(self) -> float | None:
        """declined / (issued − pending), from the published (possibly rounded) counts;
        unknown when a part is missing or nothing was decided."""
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


@dataclass(frozen=True)
class DetainerStatsQuery:
    """The one statement of a breakdown: a row per key, `d0`, `d1`, … (the `dimensions`,
    in order), then issued, declined, booked_into_detention and pending, in key order.
    `:base` is the rounding base when `rounded`."""

    sql: str
    params: dict[str, object]
    dimensions: tuple[DetainerDimension, ...]
    rounded: bool


def detainer_stats_query(
    group_by: Sequence[DetainerDimension],
    filters: DetainerFilter,
    *,
    base: object,
    scope: str = "",
) -> DetainerStatsQuery:
    """The statement both APIs publish from. `base` is the rounding base's value (bound
    when the statement runs); `scope` an extra condition on the facility `f` (this code's
    own SQL, e.g. correlated to a jurisdiction), which, like every filter, selects whole
    facilities."""
    check_list("group_by", group_by)
    dimensions = tuple(dict.fromkeys(group_by))
    rounded = any(d in PERSONAL_DIMENSIONS for d in dimensions)
    where, params = _where(filters)
    if scope:
        where = f"{where} AND {scope}"
    grouping = ", ".join(f"d{i}" for i in range(len(dimensions)))
    selected = "".join(f"{_DIMENSION_SQL[d]} AS d{i}, " for i, d in enumerate(dimensions))
    sql = (
        (_ROUNDED if rounded else _EXACT).format(where=where)  # SQL from constants only
        + f"SELECT {selected}{_MEASURES_SQL} FROM published"
        + (f" GROUP BY {grouping}" if dimensions else "")
        + " HAVING sum(value) > 0"  # a row exists only where something is published
        + (f" ORDER BY {grouping}" if dimensions else "")
    )
    if rounded:
        params["base"] = base
    return DetainerStatsQuery(sql, params, dimensions, rounded)


async def detainer_stat_batches(
    conn: AsyncConnection,
    group_by: Sequence[DetainerDimension],
    filters: DetainerFilter,
    *,
    min_cell: int,
    batch_rows: int = 2000,
) -> AsyncIterator[list[DetainerStatRow]]:
    """Grouped sums streamed from a server-side cursor in batches (exports of every cell
    stay in constant memory). `min_cell` is the rounding base of personal breakdowns."""
    query = detainer_stats_query(group_by, filters, base=min_cell)
    dimensions, rounded = query.dimensions, query.rounded
    width = len(dimensions)
    statement = text(query.sql).execution_options(yield_per=batch_rows)
    result = await conn.stream(statement, query.params)
    async for partition in result.partitions(batch_rows):  # one await per batch, not per row
        yield [
            DetainerStatRow(
                key=dict(zip(dimensions, row[:width], strict=True)),
                issued=int(row[-4]),
                declined=int(row[-3]),
                booked_into_detention=int(row[-2]),
                pending=int(row[-1]),
                rounded=rounded,
            )
            for row in partition
        ]


def _where(filters: DetainerFilter) -> tuple[str, dict[str, object]]:
    """Conditions on whole facilities and whole months only (see the module docstring)."""
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
