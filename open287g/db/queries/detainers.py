"""Detainer statistics, both APIs: exact totals, and rounded breakdowns by personal attributes.

Disclosure control (README "Disclosure control"): the cell-key method with a controlled
rounding. Without a personal attribute (state, facility, month, outcome) counts are sums
of the exact `detainer_totals` (facility × month × outcome). With one (criminality,
citizenship) every count is rounded down or up to a multiple of the base
(`OPEN287G_MIN_CELL`) from its own count and the keys of its records (`detainer_cells`),
so it is within base − 1 of its truth at every level of aggregation, the same records
publish the same value in every query, and rounding is controlled within each margin so
that no small count can be pinned against the exact totals (see `_ROUNDED`).

Filters select whole facilities and whole months, so they never split a finest cell; a
filter on a personal attribute would, and would have to be applied after rounding.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db import gazetteer
from open287g.db.models.enums import MEANINGS
from open287g.db.queries.bounds import check_list
from open287g.db.queries.filters import STATE_WORDS, Filter, Filters, Where
from open287g.db.queries.ids import (
    BadId,
    check_filter_ids,
    from_global_id,
    gid_sql,
    int_key_of,
    with_article,
)
from open287g.db.queries.pagination import BadFilter, contains_pattern


class DetainerDimension(enum.StrEnum):
    """What detainer counts can be grouped by."""

    STATE = "STATE"
    FACILITY = "FACILITY"
    MONTH = "MONTH"
    OUTCOME = "OUTCOME"
    CRIMINALITY = "CRIMINALITY"
    CITIZENSHIP = "CITIZENSHIP"
    AGENCY = "AGENCY"  # the agency running the facility, by its id
    JURISDICTION = "JURISDICTION"  # the county the facility is placed in, by its id


MEANINGS.update(
    {
        DetainerDimension.STATE: "The facility's state.",
        DetainerDimension.FACILITY: "The facility (a jail), by its code; by its id (a "
        "Facility's) where it has none, so two uncoded jails of one name stay apart.",
        DetainerDimension.MONTH: "The month the detainer was issued.",
        DetainerDimension.OUTCOME: "How it ended (DetainerOutcome).",
        DetainerDimension.CRIMINALITY: "The person's criminal history, as ICE classifies it "
        "(a personal attribute: counts rounded).",
        DetainerDimension.CITIZENSHIP: "The person's citizenship (a personal attribute: "
        "counts rounded).",
        DetainerDimension.AGENCY: "The agency running the facility (its county's sheriff), "
        "by its id (two agencies may share a name); null where none is linked.",
        DetainerDimension.JURISDICTION: "The county the facility is placed in, by its id "
        "(a Jurisdiction); null where it is not placed.",
    }
)
PERSONAL_DIMENSIONS = frozenset({DetainerDimension.CRIMINALITY, DetainerDimension.CITIZENSHIP})

# Field descriptions both APIs publish (GraphQL schema, OpenAPI).
ROUNDED_DESCRIPTION = (
    "True in a breakdown by a personal attribute (criminality, citizenship): each count is "
    "its truth rounded down or up to a multiple of OPEN287G_MIN_CELL (within bound of it, at "
    "every level of aggregation), the same value whatever query asks for the same records "
    "(cell-key method), so no count from 1 to the base minus 1 is published; the breakdown "
    "of a margin below OPEN287G_MIN_MARGIN is withheld (see suppressed); cells that round to "
    "0 are not listed. False: the counts are exact."
)
BOUND_DESCRIPTION = (
    "How far each count of this row may be from its truth: 0 when exact, OPEN287G_MIN_CELL "
    "minus 1 when rounded (docs/disclosure.md)."
)
BOUND_HEADER = "X-Perturbation-Bound"


def perturbation_bound(rounded: bool, min_cell: int) -> int:
    """The published bound: every rounded count is within base − 1 of its truth."""
    return max(min_cell - 1, 0) if rounded else 0


SUPPRESSED_DESCRIPTION = (
    "True when a count of this row is withheld (null): in a breakdown by a personal "
    "attribute, a margin (the row without its personal dimensions, for one measure) whose "
    "exact count is below OPEN287G_MIN_MARGIN has no published breakdown, since its exact "
    "total would narrow the rounded cells to single values (docs/disclosure.md). A margin "
    "withheld whole is one row with its personal dimensions and its counts null."
)
DECLINE_RATE_DESCRIPTION = (
    "declined / (issued − pending), from the published counts (rounded when rounded is true)."
)

# A facility's agency and county as statistics key them: their global ids (API ids).
_AGENCY_ID = gid_sql("Agency", "f.agency_id")
_JURISDICTION_ID = gid_sql("Jurisdiction", "f.jurisdiction_id")


def in_jurisdiction(facility: str, jurisdiction: str) -> str:
    """SQL: the facility row `facility` lies in the jurisdiction row `jurisdiction`. A
    state holds every facility of the state (placed or not), a county those placed in it,
    a place those of its city or of a county wholly inside it (a borough of New York
    City: its jail's city is QUEENS); the one rule of statistics' `jurisdiction` filter,
    `Jurisdiction.detainerStats` and `Jurisdiction.facilities`."""
    f, j = facility, jurisdiction
    return (
        f"(CASE CAST({j}.kind AS text) WHEN 'STATE' THEN {f}.state_code = {j}.state_code"
        f" WHEN 'PLACE' THEN {f}.state_code = {j}.state_code AND (upper({f}.city) = upper({j}.name)"
        f" OR {f}.county_fips IN (SELECT w.fips FROM {_whole_counties()} w(state, name, fips)"
        f" WHERE w.state = {j}.state_code AND w.name = {j}.name))"
        f" ELSE {f}.jurisdiction_id = {j}.id END)"
    )


# The counties wholly inside a place (New York City's boroughs, a consolidated city and
# county), as SQL rows (state, place name, county FIPS): a jail placed in one (its city
# QUEENS) is in the place. From the gazetteer's places.csv; never an invented code.
@functools.cache
def _whole_counties() -> str:
    rows = ", ".join(
        f"('{state}', '{name.replace(chr(39), chr(39) * 2)}', '{county.fips}')"
        for (state, name), counties in sorted(gazetteer.places_whole_counties().items())
        for county in counties
    )
    return f"(VALUES {rows})"


def in_jurisdiction_of(facility: str, param: str) -> str:
    """SQL: the facility row `facility` lies in the jurisdiction whose id is `:param`."""
    return (
        f"EXISTS (SELECT FROM jurisdictions fj WHERE fj.id = :{param}"
        f" AND {in_jurisdiction(facility, 'fj')})"
    )


def facility_key(facility: str) -> int | None:
    """The key of a Facility's global id, or None when `facility` is not one (a code)."""
    try:
        type_name, key = from_global_id(facility.strip())
    except BadId:
        return None
    return int_key_of(key) if type_name == "Facility" else None


def facility_id_type(facility: str) -> None:
    """A BadId when `facility` is an id of this API of another type than Facility."""
    try:
        type_name, _ = from_global_id(facility.strip())
    except BadId:
        return  # a code or part of names
    if type_name != "Facility":
        raise BadId(
            f"facility {facility!r} is the id of {with_article(type_name)}, not of a Facility"
        )


def facility_key_sql(facility: str) -> str:
    """SQL: how statistics key the facility row `facility`: its code, else its global id
    (never its name: two jails without a code may share one, in two states)."""
    return f"coalesce(nullif({facility}.code, ''), {gid_sql('Facility', f'{facility}.id')})"


_FACILITY_KEY = facility_key_sql("f")

# Column names of the `published` rows both queries below select from.
_DIMENSION_SQL: dict[DetainerDimension, str] = {
    DetainerDimension.STATE: "state_code",
    DetainerDimension.FACILITY: "facility",
    DetainerDimension.MONTH: "month",
    DetainerDimension.OUTCOME: "CAST(outcome AS text)",
    DetainerDimension.CRIMINALITY: "criminality",
    DetainerDimension.CITIZENSHIP: "citizenship",
    DetainerDimension.AGENCY: "agency",
    DetainerDimension.JURISDICTION: "jurisdiction",
}

# The same dimensions, from the finest cells `s` and their facility `f` (rounded breakdowns).
_CELL_SQL: dict[DetainerDimension, str] = {
    DetainerDimension.STATE: "f.state_code",
    DetainerDimension.FACILITY: _FACILITY_KEY,
    DetainerDimension.MONTH: "s.month",
    DetainerDimension.OUTCOME: "CAST(s.outcome AS text)",
    DetainerDimension.CRIMINALITY: "s.criminality",
    DetainerDimension.CITIZENSHIP: "s.citizenship",
    DetainerDimension.AGENCY: _AGENCY_ID,
    DetainerDimension.JURISDICTION: _JURISDICTION_ID,
}


@dataclass(frozen=True)
class Measure:
    """A detainer count: the detainers of `outcome` (None: every detainer issued)."""

    name: str
    outcome: str | None
    description: str


# The measures, declared once: the statistics' SQL (exact and rounded), their rows
# (`DetainerStatRow`), GraphQL's and REST's columns (`db/entities/statistics.py`), CSV
# headers and OpenAPI follow from this list.
MEASURES = (
    Measure("issued", None, "Detainers ICE issued."),
    Measure("declined", "DECLINED_BY_AGENCY", "Detainers the agency declined."),
    Measure(
        "booked_into_detention",
        "BOOKED_INTO_DETENTION",
        "Detainers after which the person was booked into ICE detention.",
    ),
    Measure("pending", "PENDING", "Detainers not yet decided."),
)
_MEASURES_SQL = ", ".join(
    f"coalesce(sum(value) FILTER (WHERE outcome = '{m.outcome}'), 0) AS {m.name}"
    if m.outcome
    else f"sum(value) AS {m.name}"
    for m in MEASURES
)

_EXACT = """
WITH published AS (
    SELECT f.state_code, {facility} AS facility, s.month, s.outcome,
           s.detainers AS value, {agency} AS agency, {jurisdiction} AS jurisdiction
    FROM detainer_totals s JOIN detainer_facilities f ON f.id = s.facility_id
    WHERE {where}
)
"""

# The cell-key method with controlled rounding (README "Disclosure control"). Every
# published personal cell, at whatever level the query asks for, is rounded from its own
# count and key, summed from the finest cells it holds (never from rounded cells):
#
# - a *margin* is what the query's key says without its personal dimensions, for one
#   measure (m 0 issued, 1 declined, 2 booked into detention, 3 pending). Its exact count
#   is published (without the personal dimensions), so its cells are rounded together;
# - its *atoms* are its detainers by criminality × citizenship: count n, key k (the sum
#   modulo 2^31 of the keys of their records). They are rounded by systematic sampling:
#   remainders r = n mod b in criminality-major, then key order, cumulative sums R, the
#   start u = (the margin's key) / 2^31; an atom rounds up when an integer lies in
#   ((R − r)/b + u, R/b + u]. Each atom rounds up with probability about r / b; every run
#   of consecutive atoms (a criminality, the whole margin) is rounded down or up to b;
# - a margin whose total is ≡ 1 (mod b) is never rounded up as a whole (its start is
#   scaled into [0, 1 − 1/b)): its total rounded up would pin any part of it that is
#   all of it (n = p − b + 1 and n ≤ the exact total);
# - a published cell is the sum of its rounded atoms (by criminality × citizenship and by
#   criminality: consistent, and within b − 1), clamped to the truth's rounding down or
#   up to b (by citizenship, whose atoms are not consecutive).
#
# Every value is within b − 1 of its truth. Keys and starts are sums over the records, so
# the same records in the same margin always publish the same value, whichever query,
# filter, API or format asks.
_KEY_RANGE = 2147483648  # 2^31: keys are sums of record keys modulo this
_MEASURE_CELLS = (
    "(VALUES "
    + ", ".join(
        f"({i}, {'NULL' if m.outcome is None else repr(m.outcome)})" for i, m in enumerate(MEASURES)
    )
    + ") AS m(i, o)"
)
_ROUNDED = """
WITH base AS (
    SELECT {selected}s.criminality AS crim, s.citizenship AS cit, s.outcome,
           s.detainers AS n, s.cell_key AS k
    FROM detainer_cells s JOIN detainer_facilities f ON f.id = s.facility_id
    WHERE {where}
), atoms AS (
    SELECT {margin}crim, cit, m.i AS m, sum(b.n) AS n, sum(b.k) % {key_range} AS k
    FROM base b JOIN {measures} ON m.o IS NULL OR CAST(b.outcome AS text) = m.o
    GROUP BY {margin}crim, cit, m.i
), ranked AS (
    SELECT atoms.*, n % :base AS r,
           sum(n % :base) OVER (margin ORDER BY crim COLLATE "C", k, cit COLLATE "C"
                                ROWS UNBOUNDED PRECEDING) AS upto,
           sum(n % :base) OVER margin AS residues,
           CAST(sum(k) OVER margin % {key_range} AS float8) / {key_range} AS u0,
           {margin_totals}
    FROM atoms
    WINDOW margin AS (PARTITION BY {margin}m), margins AS ({margin_partition})
), started AS (
    SELECT ranked.*,
           CASE WHEN :base > 1 AND residues % :base = 1
                THEN u0 * (1 - 1.0 / :base) ELSE u0 END AS u
    FROM ranked
), rounded AS (
    SELECT started.*,
           n - r + :base * CAST(floor(CAST(upto AS float8) / :base + u)
                                - floor(CAST(upto - r AS float8) / :base + u) AS int) AS p
    FROM started
), sliced AS (
    SELECT {sliced}m, sum(n) AS n, sum(p) AS p, {withheld_flags}
    FROM rounded GROUP BY {grouping}, m
), published AS (
    SELECT sliced.*,
           CASE WHEN (ARRAY[{withheld}])[m + 1] THEN NULL
                ELSE least(greatest(p, n - n % :base),
                           n - n % :base + CASE WHEN n % :base > 0 THEN :base ELSE 0 END)
           END AS value
    FROM sliced
)
SELECT {keys}{measures_sql}, bool_or({any_withheld}) AS suppressed
FROM published
GROUP BY {grouping}
HAVING sum(value) > 0
UNION ALL
SELECT {withheld_keys}{withheld_measures}true
FROM published
GROUP BY {margin_grouping}
HAVING bool_or(w0)
ORDER BY {grouping}
"""
_ROUNDED_MEASURES_SQL = ", ".join(
    f"CASE WHEN bool_or(w{i}) THEN NULL ELSE coalesce(sum(value) FILTER (WHERE m = {i}), 0)"
    f" END AS {name}"
    for i, name in enumerate(m.name for m in MEASURES)
)
# Each margin's exact count per measure (t0 … t3, over the margin's atoms of every
# measure), and whether its breakdown is withheld (w0 … w3): more than 0 and fewer than
# the minimum margin (`:min_margin`), when counts are rounded at all.
_MARGIN_TOTALS = ", ".join(
    f"coalesce(sum(n) FILTER (WHERE m = {i}) OVER margins, 0) AS t{i}" for i in range(len(MEASURES))
)
_WITHHELD_FLAGS = ", ".join(
    f"bool_or(:base > 1 AND t{i} BETWEEN 1 AND :min_margin - 1) AS w{i}"
    for i in range(len(MEASURES))
)


JURISDICTION_WORDS = (
    "Only the jails in this jurisdiction (its id): a state's every facility, a county's "
    "those placed in it, a place's those of its city or of a county wholly inside it."
)
# Conditions on the facility `f`: its state, a jurisdiction it lies in, the agency running
# it (statistics' filters and the facility list's alike).
FACILITY_STATE, FACILITY_JURISDICTION, FACILITY_AGENCY = (
    Filter("state", "state", STATE_WORDS, "f.state_code = :state"),
    Filter(
        "jurisdiction",
        "id",
        JURISDICTION_WORDS,
        in_jurisdiction_of("f", "jurisdiction"),
        id_type="Jurisdiction",
    ),
    Filter(
        "agency",
        "id",
        "Only the jails this agency (its id) runs.",
        "f.agency_id = :agency",
        id_type="Agency",
    ),
)


def _facility(value: str) -> tuple[str, dict[str, object]]:
    """One jail: ORANGCA, not the ORANGE COUNTY JAIL of Florida."""
    key = facility_key(value)
    if key is None:  # its code, or part of a name (every jail whose name holds it)
        clause = "(f.code = :code OR f.name ILIKE :facility ESCAPE '\\')"
        return clause, {"code": value.strip().upper(), "facility": contains_pattern(value)}
    return "f.id = :facility_id", {"facility_id": key}


def _month(value: dt.date) -> object:
    return value.replace(day=1)


# Conditions on whole facilities and whole months only (see the module docstring).
DETAINER_FILTERS = Filters(
    (
        FACILITY_STATE,
        Filter(
            "facility",
            "text",
            "One facility by its code (ORANGCA, any case) or id, or the facilities whose name "
            "contains this text (any case).",
            _facility,
        ),
        Filter(
            "start",
            "date",
            "The first month counted (a date in it: whole months only).",
            "s.month >= :start",
            bind=_month,
            rest="from",
            graphql_name="from",
        ),
        Filter(
            "end",
            "date",
            "The last month counted (a date in it: whole months only).",
            "s.month <= :end",
            bind=_month,
            rest="to",
            graphql_name="to",
        ),
        FACILITY_JURISDICTION,
        FACILITY_AGENCY,
    )
)


class DetainerFilter(Where):
    """`jurisdiction` and `agency` are ids' keys; `facility` is a code, part of names or a
    Facility's id, never another type's id (a `BadId` when read: it would match nothing
    and read as "no detainers"); `start` is not after `end` (a `BadFilter`)."""

    declared = DETAINER_FILTERS

    def __init__(self, **values: object) -> None:
        super().__init__(**values)
        start, end = self.get("start"), self.get("end")
        if start is not None and end is not None and start > end:
            raise BadFilter(f"from ({start.isoformat()}) is after to ({end.isoformat()})")
        facility = self.get("facility")
        if facility is not None:
            facility_id_type(facility)

    async def check_ids(self, conn: AsyncConnection) -> None:
        """A BadId when the filter's facility, jurisdiction or agency id names no row."""
        facility = self.get("facility")
        await check_filter_ids(
            conn,
            {
                "facility": ("Facility", facility_key(facility) if facility else None),
                "jurisdiction": ("Jurisdiction", self.get("jurisdiction")),
                "agency": ("Agency", self.get("agency")),
            },
        )


@dataclass
class DetainerStatRow:
    """A row of statistics: its key, then one field per measure (`MEASURES`, checked
    below), then how it was published."""

    key: dict[DetainerDimension, object]
    issued: int | None
    declined: int | None
    booked_into_detention: int | None
    pending: int | None
    rounded: bool = False  # rounded to multiples of the base, not exact
    suppressed: bool = False  # a count withheld (null); no longer happens (see rounded)
    bound: int = 0  # every count is within this of its truth (README: Disclosure control)

    @property
    def decline_rate(self) -> float | None:
        """declined / (issued − pending), from the published (possibly rounded) counts;
        unknown when a part is missing or nothing was decided."""
        if self.issued is None or self.declined is None or self.pending is None:
            return None
        decided = self.issued - self.pending
        return self.declined / decided if decided > 0 else None


assert [f.name for f in fields(DetainerStatRow)][1 : 1 + len(MEASURES)] == [
    m.name for m in MEASURES
], "DetainerStatRow's counts are the MEASURES, in order"


async def detainer_stats(
    conn: AsyncConnection,
    group_by: Sequence[DetainerDimension],
    filters: DetainerFilter,
    *,
    min_cell: int,
    min_margin: int = 1,
) -> list[DetainerStatRow]:
    return [
        row
        async for batch in detainer_stat_batches(
            conn, group_by, filters, min_cell=min_cell, min_margin=min_margin
        )
        for row in batch
    ]


def _counts(values: Sequence[Decimal | int | None]) -> dict[str, Any]:
    """A row's published counts by measure name (`MEASURES`, in order)."""
    return {m.name: _count(v) for m, v in zip(MEASURES, values, strict=True)}


def _count(value: Decimal | int | None) -> int | None:
    """A published count (a numeric sum): None where withheld."""
    return None if value is None else int(value)


@dataclass(frozen=True)
class DetainerStatsQuery:
    """The one statement of a breakdown: a row per key, `d0`, `d1`, … (the `dimensions`,
    in order), then the `MEASURES` and `suppressed`, in key order.
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
    min_margin: object,
    scope: str = "",
) -> DetainerStatsQuery:
    """The statement both APIs publish from. `base` is the rounding base's value (bound
    when the statement runs); `scope` an extra condition on the facility `f` (this code's
    own SQL, e.g. correlated to a jurisdiction), which, like every filter, selects whole
    facilities."""
    check_list("group_by", group_by)
    dimensions = tuple(dict.fromkeys(group_by))
    rounded = any(d in PERSONAL_DIMENSIONS for d in dimensions)
    where, params = filters.where()
    if scope:
        where = f"{where} AND {scope}"
    grouping = ", ".join(f"d{i}" for i in range(len(dimensions)))
    selected = "".join(f"{_DIMENSION_SQL[d]} AS d{i}, " for i, d in enumerate(dimensions))
    if rounded:  # SQL from constants only
        personal = {DetainerDimension.CRIMINALITY: "crim", DetainerDimension.CITIZENSHIP: "cit"}
        exact = [(i, d) for i, d in enumerate(dimensions) if d not in PERSONAL_DIMENSIONS]
        sql = _ROUNDED.format(
            selected="".join(f"{_CELL_SQL[d]} AS d{i}, " for i, d in exact),
            where=where,
            margin="".join(f"d{i}, " for i, _ in exact),
            key_range=_KEY_RANGE,
            measures=_MEASURE_CELLS,
            sliced="".join(
                f"{personal[d]} AS d{i}, " if d in personal else f"d{i}, "
                for i, d in enumerate(dimensions)
            ),
            keys="".join(f"d{i}, " for i in range(len(dimensions))),
            measures_sql=_ROUNDED_MEASURES_SQL,
            grouping=grouping,
            margin_totals=_MARGIN_TOTALS,
            margin_partition="PARTITION BY " + ", ".join(f"d{i}" for i, _ in exact)
            if exact
            else "",
            withheld_flags=_WITHHELD_FLAGS,
            withheld=", ".join(f"w{i}" for i in range(len(MEASURES))),
            any_withheld=" OR ".join(f"w{i}" for i in range(len(MEASURES))),
            withheld_measures="NULL, " * len(MEASURES),
            withheld_keys="".join(
                f"d{i}, " if d not in personal else f"CAST(NULL AS text) AS d{i}, "
                for i, d in enumerate(dimensions)
            ),
            margin_grouping=", ".join(f"d{i}" for i, _ in exact) or "()",
        )
        params["base"] = base
        params["min_margin"] = min_margin
        return DetainerStatsQuery(sql, params, dimensions, rounded)
    sql = (
        _EXACT.format(
            where=where, facility=_FACILITY_KEY, agency=_AGENCY_ID, jurisdiction=_JURISDICTION_ID
        )
        + f"SELECT {selected}{_MEASURES_SQL}, false AS suppressed FROM published"
        + (f" GROUP BY {grouping}" if dimensions else "")
        + " HAVING sum(value) > 0"  # a row exists only where something is published
        + (f" ORDER BY {grouping}" if dimensions else "")
    )
    return DetainerStatsQuery(sql, params, dimensions, rounded)


async def detainer_stat_batches(
    conn: AsyncConnection,
    group_by: Sequence[DetainerDimension],
    filters: DetainerFilter,
    *,
    min_cell: int,
    min_margin: int = 1,
    batch_rows: int = 2000,
) -> AsyncIterator[list[DetainerStatRow]]:
    """Grouped sums streamed from a server-side cursor in batches (exports of every cell
    stay in constant memory). `min_cell` is the rounding base of personal breakdowns,
    `min_margin` the smallest margin whose breakdown is published (1: every one; the
    APIs pass `OPEN287G_MIN_MARGIN`)."""
    query = detainer_stats_query(group_by, filters, base=min_cell, min_margin=min_margin)
    dimensions, rounded = query.dimensions, query.rounded
    width = len(dimensions)
    statement = text(query.sql).execution_options(yield_per=batch_rows)
    result = await conn.stream(statement, query.params)
    async for partition in result.partitions(batch_rows):  # one await per batch, not per row
        yield [
            DetainerStatRow(
                dict(zip(dimensions, row[:width], strict=True)),
                **_counts(row[-1 - len(MEASURES) : -1]),
                rounded=rounded,
                suppressed=bool(row[-1]),
                bound=perturbation_bound(rounded, min_cell),
            )
            for row in partition
        ]


async def facility_names(conn: AsyncConnection, state: str) -> dict[str, str]:
    """{facility key as statistics give it (its code, else its id): its name}, for a
    state's pages."""
    rows = await conn.execute(
        text(
            f"SELECT {facility_key_sql('f')}, f.name FROM detainer_facilities f"
            " WHERE f.state_code = :state"
        ),
        {"state": state},
    )
    return {str(key): str(name) for key, name in rows.all()}


async def detainers_loaded(conn: AsyncConnection) -> bool:
    """Whether any detainer release is loaded (a page without one says so)."""
    return bool(await conn.scalar(text("SELECT EXISTS (SELECT FROM detainer_totals)")))
