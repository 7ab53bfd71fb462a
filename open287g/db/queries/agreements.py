"""Agreements: the filter model, the base query (current, or as of a date), keyset pages,
counts, stats and changes between snapshots. Shared by REST and GraphQL."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.models.agreements import Agreement
from open287g.db.models.enums import MEANINGS, AgreementStatus, ProgramModelCode
from open287g.db.queries.bounds import check_list
from open287g.db.queries.filters import STATE_WORDS, Filter, Filters, Ordering, Where
from open287g.db.queries.pagination import (
    BadCursor,
    Keyset,
    PageQuery,
    Rows,
    decode_cursor,
)
from open287g.db.queries.search import RELEVANCE_SQL, folded_contains, search_value


class AgreementOrderField(enum.StrEnum):
    """What agreements can be sorted by."""

    ID = "ID"
    SIGNED_ON = "SIGNED_ON"
    STATE = "STATE"
    FIRST_SEEN = "FIRST_SEEN"
    RELEVANCE = "RELEVANCE"  # best match of the agency-name search first (else id order)


class Direction(enum.StrEnum):
    """Which way a sort runs."""

    ASC = "ASC"
    DESC = "DESC"


class AgreementDimension(enum.StrEnum):
    """What agreement counts can be grouped by."""

    STATE = "STATE"
    MODEL = "MODEL"
    STATUS = "STATUS"
    SIGNED_MONTH = "SIGNED_MONTH"
    AGENCY_TYPE = "AGENCY_TYPE"


class AgreementCountBy(enum.StrEnum):
    """What a statistic counts. LINEAGES (the default): each agreement once, however many
    names ICE listed it under (its renames, relistings and corrected states are one
    lineage; a model switch is two agreements, the old one ENDED), with its current status
    and its first signing date.
    LIST_ROWS: every agreement record, one per name and model the lists carried."""

    LINEAGES = "LINEAGES"
    LIST_ROWS = "LIST_ROWS"


def _agency_name(value: str) -> tuple[str, dict[str, object]]:
    matching = folded_contains("name_fold", "agency_name")
    clause = f"g.agency_id IN (SELECT id FROM agencies WHERE {matching})"
    return clause, {"agency_name": search_value(value)}  # RELEVANCE_SQL reads it too


# Over `g`, an agreements row (the table, the list as of a date, or a lineage's head).
AGREEMENT_FILTERS = Filters(
    (
        Filter("state", "state", STATE_WORDS, "g.state_code = :state"),
        Filter(
            "model",
            "enum",
            "Only agreements of this program model.",
            "CAST(g.model_code AS text) = :model",
            enum=ProgramModelCode,
        ),
        Filter(
            "status",
            "enum",
            "Only agreements with this status: ACTIVE, PENDING, ENDED (an active agreement "
            "that left the lists, also when the agency went on under another program model), "
            "WITHDRAWN (a pending application that left without becoming "
            "active) or RENAMED (listed on under a new name, after a gap, or in another state).",
            "CAST(g.status AS text) = :status",
            enum=AgreementStatus,
        ),
        Filter(
            "signed_from",
            "date",
            "Only agreements signed on or after this date.",
            "g.signed_on >= :signed_from",
        ),
        Filter(
            "signed_to",
            "date",
            "Only agreements signed on or before this date.",
            "g.signed_on <= :signed_to",
        ),
        Filter(
            "agency_name_contains",
            "text",
            "Only agencies whose name contains this text (any case).",
            _agency_name,
            rest="q",
        ),
    )
)


class AgreementFilter(Where):
    declared = AGREEMENT_FILTERS


@dataclass(frozen=True)
class AgreementOrder:
    field: AgreementOrderField = AgreementOrderField.ID
    direction: Direction = Direction.ASC

    @property
    def name(self) -> str:
        return f"agreements:{self.field}:{self.direction}"


AGREEMENT_ORDERS = {
    AgreementOrderField.ID: Ordering(
        "g.id", "The agreement's id: the order they were first listed in.", int, rest=True
    ),
    AgreementOrderField.SIGNED_ON: Ordering(
        "coalesce(g.signed_on, DATE '0001-01-01')", "The signing date (undated ones last).", dt.date
    ),
    AgreementOrderField.STATE: Ordering("g.state_code", "The state's USPS code.", str),
    AgreementOrderField.FIRST_SEEN: Ordering(
        "g.first_seen", "The date of the first list naming it.", dt.date
    ),
    AgreementOrderField.RELEVANCE: Ordering(
        RELEVANCE_SQL,
        "Best match of the agency-name search (`agencyNameContains`, REST's `q`) first "
        "(without one, by id).",
        int,
        rest=True,
    ),
}
MEANINGS.update({field: order.meaning for field, order in AGREEMENT_ORDERS.items()})


# What ICE's list says of an agreement on it, over the agreement `a`, its row `o` on the
# list (`agreement_observations`) and `{participating}`, whether that list is the
# participating one (SQL); the rest of an agreement's columns are its own.
LISTED = {
    "status": "CAST(CASE WHEN {participating} THEN 'ACTIVE' ELSE 'PENDING' END"
    " AS agreement_status)",
    "signed_on": "o.signed_on",
    "signed_raw": "o.signed_raw",
    "moa_url": "o.moa_url",
    "addendum_urls": "o.addendum_urls",
}
# The values whose change between two lists is a CHANGED agreement (`_CHANGES`).
COMPARED = ("status", "signed_on", "signed_raw", "moa_url")


def _columns(alias: str, names: tuple[str, ...] = COMPARED) -> str:
    return ", ".join(f"{alias}.{name}" for name in names)


def _listed(participating: str) -> str:
    """The `COMPARED` values as a list shows them (`LISTED`)."""
    return ", ".join(LISTED[name].format(participating=participating) for name in COMPARED)


def _as_of_columns(prefix: str) -> str:
    """Every column of the agreements table, as the list as of `:<prefix>as_of` shows it:
    `LISTED`, the seen dates of the lists up to then, activation if it had happened."""
    shown = {
        **{name: sql.format(participating="l.participating") for name, sql in LISTED.items()},
        "first_seen": "seen.first_seen",
        "last_seen": "seen.last_seen",
        "activated_on": f"CASE WHEN a.activated_on <= :{prefix}as_of THEN a.activated_on END",
        "left_on": "CAST(NULL AS date)",
    }
    return ", ".join(
        f"{shown.get(column.name, f'a.{column.name}')} AS {column.name}"
        for column in Agreement.__table__.columns
    )


def as_of_ctes(prefix: str) -> str:
    """The CTEs (without WITH) of the list as ICE published it on the date `:<prefix>as_of`:
    the latest participating and pending snapshots published on or before it. The last,
    `<prefix>g`, has the columns of the agreements table. A prefix per date lets one
    statement hold several."""
    p = prefix
    return f"""
{p}latest AS (
    SELECT DISTINCT ON (s.kind) s.id, s.kind FROM snapshots s
    JOIN source_files f ON f.id = s.source_file_id
    WHERE s.published_on <= :{p}as_of
    ORDER BY s.kind, s.published_at DESC, f.fetched_at DESC, s.id DESC
), {p}listed AS (
    SELECT o.agreement_id, bool_or(l.kind = 'PARTICIPATING') AS participating,
           (array_agg(o.snapshot_id ORDER BY l.kind))[1] AS snapshot_id
    FROM agreement_observations o JOIN {p}latest l ON l.id = o.snapshot_id
    GROUP BY o.agreement_id
), {p}seen AS (
    SELECT o.agreement_id, min(s.published_on) AS first_seen, max(s.published_on) AS last_seen
    FROM agreement_observations o JOIN snapshots s ON s.id = o.snapshot_id
    WHERE s.published_on <= :{p}as_of
      AND o.agreement_id IN (SELECT agreement_id FROM {p}listed)
    GROUP BY o.agreement_id
), {p}g AS (
    SELECT {_as_of_columns(p)}
    FROM {p}listed l
    JOIN agreements a ON a.id = l.agreement_id
    JOIN agreement_observations o ON o.agreement_id = l.agreement_id
                                 AND o.snapshot_id = l.snapshot_id
    JOIN {p}seen seen ON seen.agreement_id = l.agreement_id
)"""


def _source(as_of: dt.date | None) -> tuple[str, str, dict[str, object]]:
    """(CTEs, FROM clause, params) for current data or the list as of a date."""
    if as_of is None:
        return "", "agreements g", {}
    return as_of_ctes(""), "g", {"as_of": as_of}


def page_query(
    filters: AgreementFilter,
    order: AgreementOrder,
    after: str | None,
    as_of: dt.date | None = None,
) -> PageQuery:
    prefix, source, params = _source(as_of)
    clauses, filter_params = filters.clauses()
    params.update(filter_params)
    count_where = " AND ".join(clauses) or "true"
    field = order.field
    if field is AgreementOrderField.RELEVANCE and not filters.get("agency_name_contains"):
        field = AgreementOrderField.ID  # nothing to rank by: id order
    sort = AGREEMENT_ORDERS[field].sql
    if after:
        keyset: Keyset = decode_cursor(after, order.name)
        comparison = ">" if order.direction is Direction.ASC else "<"
        clauses.append(f"({sort}, g.id) {comparison} (:after_value, :after_id)")
        params["after_value"] = _sort_value(order.field, keyset.value)
        params["after_id"] = keyset.id
    where = " AND ".join(clauses) or "true"
    direction = order.direction.value
    return PageQuery(
        ctes=prefix.strip(),
        rows=(
            f"SELECT g.*, {sort} AS sort_value FROM {source} WHERE {where}"
            f" ORDER BY {sort} {direction}, g.id {direction}"
        ),
        count=f"SELECT count(*) AS n FROM {source} WHERE {count_where}",
        params=params,
    )


def _with(ctes: str, sql: str) -> str:
    return f"WITH {ctes} {sql}" if ctes else sql


def _sort_value(field: AgreementOrderField, value: object) -> object:
    cursor = AGREEMENT_ORDERS[field].cursor
    if cursor is dt.date:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise BadCursor("cursor is not one this API issued") from exc
    # A tampered cursor must not reach PostgreSQL with a value of the wrong type.
    if not isinstance(value, cursor) or isinstance(value, bool):
        raise BadCursor("cursor is not one this API issued")
    return value


async def agreement_count(
    conn: AsyncConnection, filters: AgreementFilter, as_of: dt.date | None = None
) -> int:
    query = page_query(filters, AgreementOrder(), None, as_of)
    sql = _with(query.ctes, query.count)
    return int((await conn.execute(text(sql), query.params)).scalar_one())


async def agreement_exists(conn: AsyncConnection, agreement_id: int) -> bool:
    found = await conn.execute(
        text("SELECT 1 FROM agreements WHERE id = :id"), {"id": agreement_id}
    )
    return found.first() is not None


def agreement_rows(
    filters: AgreementFilter,
    *,
    ids: Sequence[int] | None = None,
    agency_ids: Sequence[int] | None = None,
) -> Rows:
    """The agreements matching `filters` (and with `ids`, or of `agency_ids`), every
    column, in id order: rows for the compiler (`compiler.read_objects`)."""
    clauses, params = filters.clauses()
    if ids is not None:
        clauses.append("g.id = ANY(CAST(:ids AS bigint[]))")
        params["ids"] = list(ids)
    if agency_ids is not None:
        clauses.append("g.agency_id = ANY(CAST(:agency_ids AS bigint[]))")
        params["agency_ids"] = list(agency_ids)
    where = " AND ".join(clauses) or "true"
    return Rows(f"(SELECT g.* FROM agreements g WHERE {where}) {{c}}", "{c}.id", params)


_STAT_SQL = {
    AgreementDimension.STATE: "g.state_code",
    AgreementDimension.MODEL: "CAST(g.model_code AS text)",
    AgreementDimension.STATUS: "CAST(g.status AS text)",
    AgreementDimension.SIGNED_MONTH: "to_char(g.signed_on, 'YYYY-MM')",
    AgreementDimension.AGENCY_TYPE: "CAST(a.type AS text)",
}


# Each lineage once: the agreement at its head (no successor: the one listed now, or the
# last) with its own status, state, model and agency, and the earliest signing date along
# its predecessors. A model switch is not a lineage link: the switched-from agreement ended.
# The columns `AGREEMENT_FILTERS` and `_STAT_SQL` read, as `agreements` has them.
LINEAGE_HEADS = """(WITH RECURSIVE up(head, id) AS (
    SELECT h.id, h.id FROM agreements h
    WHERE NOT EXISTS (SELECT 1 FROM agreement_links l
                      WHERE l.predecessor_id = h.id AND l.kind <> 'SWITCH')
    UNION
    SELECT up.head, l.predecessor_id FROM up JOIN agreement_links l
        ON l.successor_id = up.id AND l.kind <> 'SWITCH'
), first_signed AS (
    SELECT up.head, min(x.signed_on) AS signed_on
    FROM up JOIN agreements x ON x.id = up.id GROUP BY up.head
)
SELECT h.id, h.agency_id, h.state_code, h.model_code, h.status, f.signed_on
FROM agreements h JOIN first_signed f ON f.head = h.id)"""


def agreement_stats_query(
    group_by: Sequence[AgreementDimension],
    filters: AgreementFilter,
    count_by: AgreementCountBy = AgreementCountBy.LINEAGES,
) -> tuple[str, dict[str, object], tuple[AgreementDimension, ...]]:
    """The statement of a breakdown (both APIs): a row per key, `k0`, `k1`, … (the
    dimensions returned, in order) and `count`, in key order; its parameters. Each
    lineage counts once unless `count_by` asks for list rows (`AgreementCountBy`)."""
    check_list("group_by", group_by)
    dimensions = tuple(dict.fromkeys(group_by))
    clauses, params = filters.clauses()
    keys = [f"{_STAT_SQL[d]} AS k{i}" for i, d in enumerate(dimensions)]
    grouping = ", ".join(f"k{i}" for i in range(len(dimensions)))
    source = "agreements" if count_by is AgreementCountBy.LIST_ROWS else LINEAGE_HEADS
    sql = (
        f"SELECT {', '.join([*keys, 'count(*) AS count'])} FROM {source} g"
        " JOIN agencies a ON a.id = g.agency_id"
        f" WHERE {' AND '.join(clauses) or 'true'}"
        + (f" GROUP BY {grouping} ORDER BY {grouping}" if dimensions else "")
    )
    return sql, params, dimensions


async def agreement_stats(
    conn: AsyncConnection,
    group_by: Sequence[AgreementDimension],
    filters: AgreementFilter,
    count_by: AgreementCountBy = AgreementCountBy.LINEAGES,
) -> list[tuple[dict[AgreementDimension, str | None], int]]:
    sql, params, dimensions = agreement_stats_query(group_by, filters, count_by)
    return [
        (dict(zip(dimensions, row[:-1], strict=True)), int(row[-1]))
        for row in await conn.execute(text(sql), params)
    ]


class AgreementChangeKind(enum.StrEnum):
    """How an agreement changed between two dates' lists."""

    ADDED = "ADDED"
    ENDED = "ENDED"  # left the lists (its status says ENDED or WITHDRAWN)
    RENAMED = "RENAMED"  # left because another continues it (`agreement_links`)
    CHANGED = "CHANGED"  # status, signed date or MOA link


MEANINGS.update(
    {
        Direction.ASC: "Smallest, earliest or first in the alphabet first.",
        Direction.DESC: "Largest, latest or last in the alphabet first.",
    }
)
MEANINGS.update(
    {
        AgreementDimension.STATE: "The agency's state.",
        AgreementDimension.MODEL: "The program model.",
        AgreementDimension.STATUS: "The agreement's status.",
        AgreementDimension.SIGNED_MONTH: "The month it was signed.",
        AgreementDimension.AGENCY_TYPE: "The agency's type.",
    }
)
MEANINGS.update(
    {
        AgreementCountBy.LINEAGES: "Each agreement once, however many names ICE listed it "
        "under, with its current status and first signing date.",
        AgreementCountBy.LIST_ROWS: "Every agreement record: one per name and model the lists "
        "carried.",
    }
)
MEANINGS.update(
    {
        AgreementChangeKind.ADDED: "Listed at the later date, not at the earlier one.",
        AgreementChangeKind.ENDED: "Left the lists between the dates: an active agreement "
        "that ended, or a pending application withdrawn (the agreement's status says which).",
        AgreementChangeKind.RENAMED: "Ended because another agreement continues it (a rename).",
        AgreementChangeKind.CHANGED: "Its status, signing date or MOA link changed.",
    }
)


def changes_ordering(start: dt.date, end: dt.date) -> str:
    return f"agreement-changes:{start.isoformat()}:{end.isoformat()}"


# Between the lists as published on two dates: one row (id, kind) per agreement that
# changed. A rename is one change (RENAMED, on the old agreement), not an end and an
# addition: its successor, listed now, is not ADDED. A model switch is two agreements: the
# old one ENDED, the new one ADDED. Any other agreement that left is ENDED, an application
# withdrawn too (SPEC's four kinds; its status, WITHDRAWN, tells them apart). (A FULL
# JOIN: PostgreSQL cannot plan it as the nested loop over the two lists its row estimates
# would pick.) Each change carries the list that showed it (`changes_shown`): for one
# that left, the first list of the kind that last carried it on which it was absent; for
# one added or changed, the first list after `from` that carried it as it is now.
_CHANGES = f"""
agreement_renames AS (
    SELECT l.predecessor_id, l.successor_id FROM agreement_links l
    WHERE l.kind <> 'SWITCH'
      AND l.predecessor_id IN (SELECT id FROM before_g EXCEPT SELECT id FROM now_g)
      AND l.successor_id IN (SELECT id FROM now_g)
), agreement_kinds AS (
    SELECT coalesce(n.id, b.id) AS id,
           CASE WHEN b.id IS NULL THEN 'ADDED'
                WHEN n.id IS NOT NULL THEN 'CHANGED'
                WHEN b.id IN (SELECT predecessor_id FROM agreement_renames) THEN 'RENAMED'
                ELSE 'ENDED' END AS kind,
           {_columns("n")}
    FROM before_g b FULL JOIN now_g n ON n.id = b.id
    WHERE CASE WHEN b.id IS NULL THEN n.id NOT IN (SELECT successor_id FROM agreement_renames)
               WHEN n.id IS NULL THEN true
               ELSE ({_columns("n")}) IS DISTINCT FROM ({_columns("b")}) END
), changes_listed AS (
    SELECT s.id, s.kind, s.published_on, s.source_file_id, s.published_at, f.fetched_at
    FROM snapshots s JOIN source_files f ON f.id = s.source_file_id
    WHERE s.published_on <= :now_as_of
), changes_shown AS (
    SELECT k.id, k.kind, shown.published_on AS changed_on, shown.source_file_id AS list_file_id
    FROM agreement_kinds k
    LEFT JOIN LATERAL (
        SELECT x.published_on, x.source_file_id, x.published_at, x.fetched_at, x.id
        FROM changes_listed x
        WHERE k.kind IN ('ADDED', 'CHANGED') AND x.published_on > :before_as_of
          AND EXISTS (
              SELECT 1 FROM agreement_observations o
              WHERE o.agreement_id = k.id AND o.snapshot_id = x.id
                AND ({_listed("x.kind = 'PARTICIPATING'")})
                    IS NOT DISTINCT FROM ({_columns("k")}))
        UNION ALL
        SELECT x.published_on, x.source_file_id, x.published_at, x.fetched_at, x.id FROM (
            SELECT y.kind, y.published_at, y.fetched_at, y.id FROM changes_listed y
            JOIN agreement_observations o ON o.snapshot_id = y.id AND o.agreement_id = k.id
            WHERE k.kind NOT IN ('ADDED', 'CHANGED')
            ORDER BY y.published_at DESC, y.fetched_at DESC, y.id DESC LIMIT 1
        ) last
        JOIN changes_listed x ON x.kind = last.kind
         AND (x.published_at, x.fetched_at, x.id) > (last.published_at, last.fetched_at, last.id)
        ORDER BY 3, 4, 5 LIMIT 1
    ) shown ON true
), agreement_changes AS (
    SELECT id, kind, changed_on, list_file_id FROM changes_shown
)"""


def changes_page_query(start: dt.date, end: dt.date, after: str | None) -> PageQuery:
    """A page of what changed between the lists as published on `start` and on `end`:
    agreements added, ended, renamed and changed, in agreement id order. Each row is the
    agreement's (current) row with its `kind`, which is also the cursor's value
    (`[ordering, kind, id]`)."""
    params: dict[str, object] = {"before_as_of": start, "now_as_of": end}
    where = "true"
    if after:
        params["after_id"] = decode_cursor(after, changes_ordering(start, end)).id
        where = "c.id > :after_id"
    return PageQuery(
        ctes=f"{as_of_ctes('before_')}, {as_of_ctes('now_')}, {_CHANGES.strip()}",
        rows=(
            "SELECT a.*, c.kind, c.changed_on, c.list_file_id, c.kind AS sort_value"
            " FROM agreement_changes c"
            f" JOIN agreements a ON a.id = c.id WHERE {where}"
            " ORDER BY c.id"
        ),
        count="SELECT count(*) FROM agreement_changes",
        params=params,
    )
