"""Statistics: agreement counts and detainer counts, grouped by dimensions
(`agreementStats`, `detainerStats`, `Jurisdiction.detainerStats`).

Their rows exist only as the answer of the statistics statements both APIs publish from
(`db/queries/agreements.py` `agreement_stats_query`, `db/queries/detainers.py`
`detainer_stats_query`, which hold the disclosure control): `*_stat_rows` wraps one as a
FROM item with every key column by name (null where not grouped), the counts, and each
row's place in the statement's order (`ordinal`). The compiler builds the JSON over those
rows, in the operation's one statement; the fallback resolvers read the same rows.

`declineRate` is computed here, in SQL, exactly as `DetainerStatRow.decline_rate`: from
the published counts, declined / (issued − pending), null unless something was decided
(two integers divided in float8, which PostgreSQL and Python both round correctly).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from open287g.db.entities.computed import Setting
from open287g.db.entities.declare import Column, Entity, GlobalId, Relation
from open287g.db.queries import agreements, detainers
from open287g.db.queries.agreements import AgreementDimension
from open287g.db.queries.detainers import DetainerDimension
from open287g.db.queries.pagination import Rows

# The rows are never read by key: an empty table keeps `Entity.table` honest.
_NO_TABLE = "(SELECT CAST(NULL AS bigint) AS ordinal WHERE false) {t}"
_KEY = "{t}.ordinal"


def _key_entity(name: str, columns: tuple[Column, ...]) -> Entity:
    return Entity(
        name=name,
        table=_NO_TABLE,
        key=_KEY,
        node=False,
        columns=columns,
        description="The group a row counts: its value of each `groupBy` dimension.",
    )


def _stat_entity(name: str, description: str, columns: tuple[Column, ...]) -> Entity:
    """A statistic's row: the group it counts (`key`, a `{name}Key`) and its measures."""
    return Entity(
        name=name,
        table=_NO_TABLE,
        key=_KEY,
        node=False,
        description=description,
        first=("key",),
        columns=columns,
        relations=(
            Relation(
                "key", f"{name}Key", "embed", nullable=False, description="The group counted."
            ),
        ),
    )


def _key_description(dimension: str) -> str:
    return (
        f"This group's {dimension.lower().replace('_', ' ')}; null unless grouped by {dimension}."
    )


def _wrapped(sql: str, names: dict[str, str | None], measures: str, extra: str = "") -> str:
    """The statement `sql` (keys `d0`, `d1`, … in key order) as rows with key columns
    named by `names` (name → its `dN`, or None: not grouped) and an `ordinal`."""
    # The statement's key order: d0, d1, … (the dimensions as grouped by).
    grouped = sorted((c for c in names.values() if c is not None), key=lambda c: int(c[1:]))
    keys = ", ".join(
        f"s.{column} AS {name}"
        if column
        else f"CAST(NULL AS {_NULL_TYPE.get(name, 'text')}) AS {name}"
        for name, column in names.items()
    )
    order = f"ORDER BY {', '.join(f's.{c}' for c in grouped)}" if grouped else ""
    return (
        f"(SELECT {keys}, {measures}{extra}, row_number() OVER ({order}) AS ordinal"
        f" FROM ({sql}) s) {{c}}"
    )


_NULL_TYPE = {"month": "date"}

_KEY_TYPES: dict[DetainerDimension, Any] = {
    DetainerDimension.MONTH: dt.date | None,
    DetainerDimension.AGENCY: GlobalId | None,
    DetainerDimension.JURISDICTION: GlobalId | None,
}

DETAINER_STAT_KEY = _key_entity(
    "DetainerStatKey",
    tuple(
        Column(
            d.value.lower(),
            f"{{t}}.{d.value.lower()}",
            _KEY_TYPES.get(d, str | None),
            _key_description(d.value),
        )
        for d in DetainerDimension
    ),
)

DETAINER_STAT = _stat_entity(
    "DetainerStat",
    "Detainer counts for one key. Exact without a personal attribute; in a breakdown by "
    "criminality or citizenship, rounded within bound of the truth (see rounded, bound and "
    "docs/disclosure.md).",
    (
        *(Column(m.name, f"{{t}}.{m.name}", int | None, m.description) for m in detainers.MEASURES),
        Column(
            "decline_rate",
            "(CASE WHEN {t}.issued - {t}.pending > 0"
            " THEN CAST({t}.declined AS float8) / ({t}.issued - {t}.pending) END)",
            float | None,
            detainers.DECLINE_RATE_DESCRIPTION,
        ),
        Column("rounded", "{t}.rounded", bool, detainers.ROUNDED_DESCRIPTION),
        Column("bound", "{t}.bound", int, detainers.BOUND_DESCRIPTION),
        Column("suppressed", "{t}.suppressed", bool, detainers.SUPPRESSED_DESCRIPTION),
    ),
)

AGREEMENT_STAT_KEY = _key_entity(
    "AgreementStatKey",
    tuple(
        Column(d.value.lower(), f"{{t}}.{d.value.lower()}", str | None, _key_description(d.value))
        for d in AgreementDimension
    ),
)

AGREEMENT_STAT = _stat_entity(
    "AgreementStat",
    "How many agreements fall in one group.",
    (Column("count", "{t}.count", int, "Agreements in the group."),),
)

# Detainer statistics of a jurisdiction, an agency, a facility: conditions on the facility
# `f`, correlated to the parent row `{t}` (a jurisdiction: `detainers.in_jurisdiction`).
JURISDICTION_SCOPE = detainers.in_jurisdiction("f", "{t}")
AGENCY_SCOPE = "f.agency_id = {t}.id"
FACILITY_SCOPE = "f.id = {t}.id"


def detainer_stat_rows(args: dict[str, Any], scope: str = "") -> Rows:
    """`args`: `group_by` (dimensions) and `filters` (a `detainers.DetainerFilter`);
    `scope`: a condition on the facility `f` (correlated to a parent row, or none)."""
    query = detainers.detainer_stats_query(
        args["group_by"],
        args["filters"],
        base=Setting("min_cell"),
        min_margin=Setting("min_margin"),
        scope=scope,
    )
    names = {
        d.value.lower(): (f"d{query.dimensions.index(d)}" if d in query.dimensions else None)
        for d in DetainerDimension
    }
    measures = ", ".join([*(f"s.{m.name}" for m in detainers.MEASURES), "s.suppressed"])
    rounded = (  # the published bound: base − 1 (never below 0) when rounded
        ", true AS rounded, greatest(CAST(:base AS int) - 1, 0) AS bound"
        if query.rounded
        else ", false AS rounded, 0 AS bound"
    )
    return Rows(_wrapped(query.sql, names, measures, rounded), "{c}.ordinal", query.params)


def agreement_stat_rows(args: dict[str, Any], scope: str = "") -> Rows:
    """`args`: `group_by` (dimensions), `filters` (an `agreements.AgreementFilter`) and
    `count_by` (lineages, the default, or list rows)."""
    assert not scope, "agreement statistics are only a root field"
    sql, params, dimensions = agreements.agreement_stats_query(
        args["group_by"],
        args["filters"],
        args.get("count_by", agreements.AgreementCountBy.LINEAGES),
    )
    keyed = {d: f"k{i}" for i, d in enumerate(dimensions)}
    names = {d.value.lower(): keyed.get(d) for d in AgreementDimension}
    return Rows(_wrapped(sql, names, "s.count"), "{c}.ordinal", params)


# The computed entities: their rows from (arguments, scope).
COMPUTED: dict[str, Callable[[dict[str, Any], str], Rows]] = {
    "DetainerStat": detainer_stat_rows,
    "AgreementStat": agreement_stat_rows,
}
