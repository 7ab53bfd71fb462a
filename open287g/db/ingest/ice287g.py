"""Merge one parsed ICE snapshot into agencies, agreements and the snapshot history.

Set-based: the rows are COPYed into a temporary staging table, then a handful of
INSERT … SELECT / UPDATE … FROM statements do the rest, whatever the number of rows.
Current agreement and agency fields are recomputed from the whole history, so loading
snapshots out of order gives the same result as loading them in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.detainers import rematch_facilities
from open287g.db.ingest.lineage import (
    descendants,
    recompute_lineage,
    refresh_lineage_first_seen,
    statuses,
)
from open287g.db.ingest.provenance import LoadCounts, record_changes
from open287g.db.ingest.removed import IDS, Removal
from open287g.db.models.enums import AgreementStatus, ChangeOp, SnapshotKind


class StagedRow(NamedTuple):
    """One clean list row as the staging table takes it (the loader's contract with SQL)."""

    row_number: int
    state_code: str
    agency_name: str
    agency_key: str
    agency_type: str
    county: str | None
    model_code: str
    signed_on: dt.date | None
    signed_raw: str | None
    moa_url: str | None
    addendum_urls: list[str]
    j_kind: str
    j_name: str
    j_key: str
    p_kind: str | None
    p_name: str | None
    p_key: str | None
    placement_method: str | None = None  # how the row's agency was placed (PlacementMethod)
    placement_evidence: str | None = None
    placement_conflict: str | None = None  # ICE's cells contradicting each other


_CREATE_STAGE = """
CREATE TEMPORARY TABLE stage_ice (
    row_number int, state_code text, agency_name text, agency_key text, agency_type text,
    county text, model_code text, signed_on date, signed_raw text, moa_url text,
    addendum_urls text[], j_kind text, j_name text, j_key text,
    p_kind text, p_name text, p_key text,
    placement_method text, placement_evidence text, placement_conflict text
) ON COMMIT DROP
"""

# Snapshots in publication order; editions published at the same time (ICE re-issued a
# list) are ordered by when they were fetched.
_ORDERED_SNAPSHOTS = """
ordered AS (
    SELECT s.id, s.kind, s.published_on,
           row_number() OVER (PARTITION BY s.kind
                              ORDER BY s.published_at DESC, f.fetched_at DESC, s.id DESC) AS rn,
           row_number() OVER (ORDER BY s.published_at, f.fetched_at, s.id) AS pos
    FROM snapshots s JOIN source_files f ON f.id = s.source_file_id
)"""

# Counties first (depth 1), then the cities and tribes inside them (depth 2), so each
# new jurisdiction finds its parent already there.
_INSERT_JURISDICTIONS = """
WITH wanted AS (
    SELECT p_kind AS kind, p_name AS name, p_key AS key, state_code,
           'STATE' AS parent_kind, NULL AS parent_key, 1 AS depth
    FROM stage_ice WHERE p_kind = 'COUNTY'
    UNION
    SELECT j_kind, j_name, j_key, state_code, p_kind, p_key,
           CASE WHEN j_kind = 'COUNTY' THEN 1 ELSE 2 END
    FROM stage_ice WHERE j_kind <> 'STATE'
)
INSERT INTO jurisdictions (kind, name, name_key, state_code, parent_id)
SELECT DISTINCT ON (w.kind, w.state_code, w.key)
       CAST(w.kind AS jurisdiction_kind), w.name, w.key, w.state_code, parent.id
FROM wanted w
JOIN jurisdictions parent
  ON parent.state_code = w.state_code AND parent.kind = CAST(w.parent_kind AS jurisdiction_kind)
 AND (parent.name_key = w.parent_key OR (w.parent_key IS NULL AND parent.kind = 'STATE'))
WHERE w.depth = :depth
ORDER BY w.kind, w.state_code, w.key, w.name
ON CONFLICT (kind, state_code, name_key) DO NOTHING
RETURNING id
"""

_STAGED_WITH_JURISDICTION = """
staged AS (
    SELECT s.*, j.id AS jurisdiction_id
    FROM stage_ice s
    LEFT JOIN jurisdictions j ON j.kind = CAST(s.j_kind AS jurisdiction_kind)
                             AND j.state_code = s.state_code AND j.name_key = s.j_key
)"""

_INSERT_AGENCIES = f"""
WITH {_STAGED_WITH_JURISDICTION}
INSERT INTO agencies (state_code, name, name_key, type, county, jurisdiction_id,
    placement_method, placement_evidence, placement_conflict)
SELECT DISTINCT ON (state_code, agency_key)
       state_code, agency_name, agency_key, CAST(agency_type AS agency_type), county,
       jurisdiction_id, placement_method, placement_evidence, placement_conflict
FROM staged ORDER BY state_code, agency_key, row_number
ON CONFLICT (state_code, name_key) DO NOTHING
RETURNING id
"""

# Regenerate with `python -m open287g.db.rows` when the Agreement REST row changes.
RENDERED_SQL_FILE = Path(__file__).with_name("agreement_rows.sql")
RENDER_AGREEMENT_ROWS = RENDERED_SQL_FILE.read_text()

_INSERT_AGREEMENTS = """
INSERT INTO agreements (agency_id, state_code, model_code, status, first_seen, last_seen,
                        lineage_first_seen)
SELECT a.id, s.state_code, CAST(s.model_code AS program_model_code),
       CAST(:status AS agreement_status), :published_on, :published_on, :published_on
FROM stage_ice s JOIN agencies a ON a.state_code = s.state_code AND a.name_key = s.agency_key
ORDER BY s.row_number  -- ids in list order, whatever plan the join gets
ON CONFLICT (agency_id, model_code) DO NOTHING
RETURNING id
"""

_INSERT_OBSERVATIONS = f"""
WITH {_STAGED_WITH_JURISDICTION}
INSERT INTO agreement_observations (snapshot_id, agreement_id, row_number, agency_name,
    agency_type, county, jurisdiction_id, signed_on, signed_raw, moa_url, addendum_urls,
    placement_method, placement_evidence, placement_conflict)
SELECT :snapshot_id, g.id, s.row_number, s.agency_name, CAST(s.agency_type AS agency_type),
       s.county, s.jurisdiction_id, s.signed_on, s.signed_raw, s.moa_url, s.addendum_urls,
       s.placement_method, s.placement_evidence, s.placement_conflict
FROM staged s
JOIN agencies a ON a.state_code = s.state_code AND a.name_key = s.agency_key
JOIN agreements g ON g.agency_id = a.id AND g.model_code = CAST(s.model_code AS program_model_code)
RETURNING agreement_id
"""

# Every agreement's current fields, derived from the history. Only rows whose values
# differ are written; RETURNING reports what changed and how (old vs new values).
RECOMPUTE_AGREEMENTS = f"""
WITH {_ORDERED_SNAPSHOTS},
latest AS (
    SELECT
        (SELECT id FROM ordered WHERE kind = 'PARTICIPATING' AND rn = 1) AS participating,
        (SELECT id FROM ordered WHERE kind = 'PENDING' AND rn = 1) AS pending
),
seen AS (
    SELECT o.agreement_id,
           min(s.published_on) AS first_seen,
           max(s.published_on) AS last_seen,
           min(s.published_on) FILTER (WHERE s.kind = 'PARTICIPATING') AS activated_on,
           bool_or(s.id = latest.participating) AS on_participating,
           bool_or(s.id = latest.pending) AS on_pending,
           max(s.pos) AS last_pos,
           (array_agg(s.kind ORDER BY s.pos DESC))[1] AS last_kind
    FROM agreement_observations o JOIN ordered s ON s.id = o.snapshot_id CROSS JOIN latest
    GROUP BY o.agreement_id
),
last_participating AS (
    SELECT DISTINCT ON (o.agreement_id) o.agreement_id, o.signed_on, o.signed_raw,
           o.moa_url, o.addendum_urls
    FROM agreement_observations o JOIN ordered s ON s.id = o.snapshot_id
    WHERE s.kind = 'PARTICIPATING'
    ORDER BY o.agreement_id, s.rn
),
computed AS (
    SELECT seen.agreement_id AS id,
           CAST(CASE WHEN on_participating THEN 'ACTIVE' WHEN on_pending THEN 'PENDING'
                     -- A model switch ends the agreement (ENDED or WITHDRAWN, with its
                     -- switchedTo); only a continuation under another name is RENAMED.
                     WHEN EXISTS (SELECT 1 FROM agreement_links l
                                  WHERE l.predecessor_id = seen.agreement_id
                                    AND l.kind <> 'SWITCH') THEN 'RENAMED'
                     WHEN seen.activated_on IS NOT NULL THEN 'ENDED'
                     ELSE 'WITHDRAWN' END AS agreement_status) AS status,
           -- The first list of the kind that last carried it on which it was absent.
           CASE WHEN NOT (on_participating OR on_pending) THEN
               (SELECT x.published_on FROM ordered x
                WHERE x.kind = seen.last_kind AND x.pos > seen.last_pos
                ORDER BY x.pos LIMIT 1) END AS left_on,
           lp.signed_on, lp.signed_raw, lp.moa_url,
           coalesce(lp.addendum_urls, CAST('{{}}' AS text[])) AS addendum_urls,
           seen.first_seen, seen.last_seen, seen.activated_on
    FROM seen LEFT JOIN last_participating lp ON lp.agreement_id = seen.agreement_id
)
UPDATE agreements a
SET status = c.status, signed_on = c.signed_on, signed_raw = c.signed_raw,
    moa_url = c.moa_url, addendum_urls = c.addendum_urls, first_seen = c.first_seen,
    last_seen = c.last_seen, activated_on = c.activated_on, left_on = c.left_on,
    updated_at = now()
FROM computed c JOIN agreements old ON old.id = c.id
WHERE a.id = c.id
  AND (a.status, a.signed_on, a.signed_raw, a.moa_url, a.addendum_urls, a.first_seen,
       a.last_seen, a.activated_on, a.left_on)
      IS DISTINCT FROM
      (c.status, c.signed_on, c.signed_raw, c.moa_url, c.addendum_urls, c.first_seen,
       c.last_seen, c.activated_on, c.left_on)
RETURNING a.id, CAST(old.status AS text) AS old_status, CAST(c.status AS text) AS new_status,
    (old.signed_on, old.signed_raw, old.moa_url, old.addendum_urls, old.activated_on)
        IS DISTINCT FROM (c.signed_on, c.signed_raw, c.moa_url, c.addendum_urls, c.activated_on)
        AS details_changed,
    old.signed_on AS old_signed_on, c.signed_on AS new_signed_on,
    old.signed_raw AS old_signed_raw, c.signed_raw AS new_signed_raw,
    old.moa_url IS DISTINCT FROM c.moa_url AS moa_changed,
    old.addendum_urls IS DISTINCT FROM c.addendum_urls AS addenda_changed,
    c.left_on AS left_on
"""

# Agencies take their name, type, county, jurisdiction and placement evidence from the
# newest list naming them.
_RECOMPUTE_AGENCIES = f"""
WITH {_ORDERED_SNAPSHOTS},
newest AS (
    SELECT DISTINCT ON (g.agency_id) g.agency_id, o.agency_name, o.agency_type, o.county,
           o.jurisdiction_id, o.placement_method, o.placement_evidence, o.placement_conflict
    FROM agreement_observations o
    JOIN agreements g ON g.id = o.agreement_id
    JOIN ordered s ON s.id = o.snapshot_id
    WHERE g.agency_id = ANY(CAST(:agency_ids AS bigint[]))
    ORDER BY g.agency_id, s.rn, o.row_number
)
UPDATE agencies a
SET name = n.agency_name, type = n.agency_type, county = n.county,
    jurisdiction_id = n.jurisdiction_id, placement_method = n.placement_method,
    placement_evidence = n.placement_evidence, placement_conflict = n.placement_conflict,
    updated_at = now()
FROM newest n
WHERE a.id = n.agency_id
  AND (a.name, a.type, a.county, a.jurisdiction_id, a.placement_method, a.placement_evidence,
       a.placement_conflict)
      IS DISTINCT FROM (n.agency_name, n.agency_type, n.county, n.jurisdiction_id,
       n.placement_method, n.placement_evidence, n.placement_conflict)
RETURNING a.id
"""


@dataclass(frozen=True)
class SnapshotMeta:
    kind: SnapshotKind
    published_on: dt.date
    published_at: dt.datetime
    source_file_id: int
    load_run_id: int


async def merge_snapshot(
    conn: AsyncConnection, meta: SnapshotMeta, rows: Sequence[StagedRow]
) -> LoadCounts:
    """Write one snapshot. The caller owns the transaction (one per file)."""
    params = {"published_on": meta.published_on}
    await conn.execute(text(_CREATE_STAGE))
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        "stage_ice", columns=StagedRow._fields, records=rows
    )
    await conn.execute(text("ANALYZE stage_ice"))

    new_jurisdictions = [
        *(await conn.execute(text(_INSERT_JURISDICTIONS), {"depth": 1})).scalars(),
        *(await conn.execute(text(_INSERT_JURISDICTIONS), {"depth": 2})).scalars(),
    ]

    new_agencies = set((await conn.execute(text(_INSERT_AGENCIES))).scalars())
    initial = (
        AgreementStatus.ACTIVE
        if meta.kind is SnapshotKind.PARTICIPATING
        else (AgreementStatus.PENDING)
    )
    new_agreements = set(
        (
            await conn.execute(text(_INSERT_AGREEMENTS), {**params, "status": initial.value})
        ).scalars()
    )
    snapshot_id = (
        await conn.execute(
            text(
                "INSERT INTO snapshots (kind, published_on, published_at, source_file_id,"
                " load_run_id, row_count) VALUES (CAST(:kind AS snapshot_kind), :published_on,"
                " :published_at, :source_file_id, :load_run_id, :row_count) RETURNING id"
            ),
            {
                "kind": meta.kind.value,
                "published_on": meta.published_on,
                "published_at": meta.published_at,
                "source_file_id": meta.source_file_id,
                "load_run_id": meta.load_run_id,
                "row_count": len(rows),
            },
        )
    ).scalar_one()
    in_file = set(
        (await conn.execute(text(_INSERT_OBSERVATIONS), {"snapshot_id": snapshot_id})).scalars()
    )

    counts = LoadCounts(inserted=len(new_agreements))
    changed_agreements: set[int] = set(new_agreements)
    updated_in_file: set[int] = set()
    kind = meta.kind.value.lower()
    summaries = dict.fromkeys(new_agreements, f"added to the {kind} list of {meta.published_on}")
    for row in await recompute_agreements(conn):
        changed_agreements.add(row.id)
        if row.id in new_agreements:
            continue
        said = row.describe(meta.published_on)
        if said is not None:
            summaries[row.id] = said
        if row.new_status in _LEFT and row.old_status not in _LEFT:
            counts.ended += 1
        elif row.new_status != row.old_status or row.details_changed:
            counts.updated += 1
            updated_in_file.add(row.id)
    counts.unchanged = len(in_file - new_agreements - updated_in_file)

    agency_ids = list(
        (
            await conn.execute(
                text(
                    "SELECT DISTINCT agency_id FROM agreements"
                    " WHERE id = ANY(CAST(:ids AS bigint[]))"
                ),
                {"ids": list(in_file)},
            )
        ).scalars()
    )
    changed_agencies = new_agencies | await recompute_agencies(conn, agency_ids)
    # An agreement's record carries its agency's name: a renamed agency changes them too.
    changed_agreements |= await agreements_of(conn, changed_agencies - new_agencies)

    run = meta.load_run_id
    await record_changes(conn, run, "jurisdiction", new_jurisdictions, ChangeOp.UPSERT)
    await record_changes(conn, run, "agency", changed_agencies, ChangeOp.UPSERT)
    await record_changes(
        conn, run, "agreement", changed_agreements, ChangeOp.UPSERT, summaries=summaries
    )
    # Detainer facilities match to counties and sheriffs that ICE's lists may bring later.
    rematched = await rematch_facilities(conn)
    await record_changes(conn, run, "detainer_facility", rematched, ChangeOp.UPSERT)
    # ON COMMIT DROP does not fire at a savepoint; several files may share one transaction.
    await conn.execute(text("DROP TABLE stage_ice"))
    return counts


# Statuses of an agreement that left the lists for good (what a load counts as `ended`).
_LEFT = frozenset({AgreementStatus.ENDED, AgreementStatus.WITHDRAWN})


@dataclass(frozen=True)
class Recomputed:
    """One agreement whose current fields changed: how, in values and in words."""

    id: int
    old_status: str
    new_status: str
    details_changed: bool
    old_signed_on: dt.date | None
    new_signed_on: dt.date | None
    old_signed_raw: str | None
    new_signed_raw: str | None
    moa_changed: bool
    addenda_changed: bool
    left_on: dt.date | None = None

    def describe(self, as_of: dt.date) -> str | None:
        """What changed, for people; None when only `lastSeen`/`firstSeen` moved."""
        said: list[str] = []
        if self.new_status != self.old_status:
            absent = f"first absent from the list of {self.left_on or as_of}"
            if self.new_status == AgreementStatus.ENDED:
                said.append(f"ended: an active agreement left the lists ({absent})")
            elif self.new_status == AgreementStatus.WITHDRAWN:
                said.append(f"withdrawn: a pending application left the lists ({absent})")
            else:
                said.append(f"status {self.old_status.lower()} → {self.new_status.lower()}")
        old_signed = self.old_signed_on or self.old_signed_raw
        new_signed = self.new_signed_on or self.new_signed_raw
        if old_signed != new_signed:
            said.append(f"signed date {old_signed or 'none'} → {new_signed or 'none'}")
        if self.moa_changed:
            said.append("MOA link changed")
        if self.addenda_changed:
            said.append("addenda changed")
        return "; ".join(said) or None


async def recompute_agreements(conn: AsyncConnection) -> list[Recomputed]:
    """Re-derive every agreement's current fields from the history (after a snapshot is
    added or removed); those that changed. Lineage first: a renamed one is RENAMED."""
    relinked = await conn.run_sync(recompute_lineage)
    rows = [Recomputed(*row) for row in await conn.execute(text(RECOMPUTE_AGREEMENTS))]
    await refresh_lineage_first_seen(conn)  # from the links and first sights just written
    await render_agreement_rows(conn)
    # Successors downstream carry the lineage's first sight (and their links): changed too.
    changed = {row.id for row in rows}
    relinked = (relinked | await descendants(conn, changed | relinked)) - changed
    return rows + [
        Recomputed(i, s, s, False, None, None, None, None, False, False)
        for i, s in await statuses(conn, relinked)
    ]


async def recompute_agencies(conn: AsyncConnection, agency_ids: Sequence[int]) -> set[int]:
    """Re-derive these agencies' name, type, county and jurisdiction; the ids that changed."""
    result = await conn.execute(text(_RECOMPUTE_AGENCIES), {"agency_ids": list(agency_ids)})
    changed = set(result.scalars())
    if changed:
        await render_agreement_rows(conn)  # an agreement's row shows its agency's name
    return changed


async def render_agreement_rows(conn: AsyncConnection) -> None:
    """Store each agreement's REST row as /v1 shows it (`agreement_rows`, a read model),
    in the load's transaction: after every change of what a row shows (the agreement, its
    links, its agency's name), which `recompute_agreements` and `recompute_agencies`
    write. Only rows whose text changed are written. The statement is the compiler's
    (`db/rows.py` render_rows_sql), generated into agreement_rows.sql beside this module
    (the layers below the compiler cannot import it; a test fails when it drifts)."""
    await conn.exec_driver_sql(RENDER_AGREEMENT_ROWS)


async def agreements_of(conn: AsyncConnection, agency_ids: set[int]) -> set[int]:
    result = await conn.execute(
        text("SELECT id FROM agreements WHERE agency_id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": sorted(agency_ids)},
    )
    return set(result.scalars())


async def snapshot_row_count(conn: AsyncConnection, load_run_id: int) -> int:
    """Agreements the snapshot of an earlier load run listed (0 if it made none)."""
    count = (
        await conn.execute(
            text("SELECT row_count FROM snapshots WHERE load_run_id = :run"), {"run": load_run_id}
        )
    ).scalar_one_or_none()
    return int(count or 0)


async def remove_lists(removal: Removal) -> None:
    """The removal of ICE lists: their snapshots (observations go with them), the
    agreements only they listed, and agencies left without any agreement (with their
    officials); the other agencies they listed are re-derived."""
    touched = await removal.ids(
        "SELECT DISTINCT o.agreement_id FROM agreement_observations o"
        f" JOIN snapshots s ON s.id = o.snapshot_id WHERE s.source_file_id = ANY({IDS})",
        ids=removal.files,
    )
    touched_agencies = await removal.ids(
        f"SELECT DISTINCT agency_id FROM agreements WHERE id = ANY({IDS})", ids=touched
    )
    await removal.conn.execute(
        text(f"DELETE FROM snapshots WHERE source_file_id = ANY({IDS})"), {"ids": removal.files}
    )
    gone = await removal.conn.execute(
        text(
            f"DELETE FROM agreements g WHERE g.id = ANY({IDS}) AND NOT EXISTS"
            " (SELECT 1 FROM agreement_observations o WHERE o.agreement_id = g.id)"
            " RETURNING g.id, (SELECT a.name FROM agencies a WHERE a.id = g.agency_id),"
            " g.state_code, CAST(g.model_code AS text)"
        ),
        {"ids": touched},
    )
    for agreement_id, agency, state, model in gone:
        removal.gone("agreement", [agreement_id])
        removal.summaries[("agreement", agreement_id)] = (
            f"removed with its dataset: {agency} ({state}, {model})"
        )
    orphans = await removal.ids(
        f"SELECT a.id FROM agencies a WHERE a.id = ANY({IDS})"
        " AND NOT EXISTS (SELECT 1 FROM agreements g WHERE g.agency_id = a.id)",
        ids=touched_agencies,
    )
    removal.gone(
        "official",
        await removal.ids(
            f"DELETE FROM officials WHERE agency_id = ANY({IDS}) RETURNING id", ids=orphans
        ),
    )
    removal.gone(
        "agency",
        await removal.ids(f"DELETE FROM agencies WHERE id = ANY({IDS}) RETURNING id", ids=orphans),
    )
    removal.agencies |= set(touched_agencies) - set(orphans)
