"""Write policy assertions: find or create their jurisdictions (a place inside its county
when the gazetteer knows it), then upsert by identity (jurisdiction, source, claim)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.provenance import IssueRecord, LoadCounts, record_changes
from open287g.db.ingest.removed import Removal
from open287g.db.models.enums import ChangeOp, JurisdictionKind, PolicyBasis, PolicyStatus


@dataclass(frozen=True)
class PolicyRow:
    row_number: int
    kind: JurisdictionKind
    state_code: str
    name: str
    name_key: str
    fips: str | None
    status: PolicyStatus
    declared_sanctuary: bool | None
    policy_name: str | None
    policy_key: str
    effective_date: dt.date | None
    source_title: str | None
    source_url: str | None
    notes: str | None
    source_key: str
    source_date: dt.date | None
    basis: PolicyBasis
    county_fips: str | None  # a place's county


_FIND_OR_CREATE_JURISDICTION = """
WITH existing AS (
    SELECT id FROM jurisdictions
    WHERE kind = CAST(:kind AS jurisdiction_kind) AND state_code = :state AND name_key = :key
), created AS (
    INSERT INTO jurisdictions (kind, name, name_key, state_code, fips, parent_id)
    SELECT CAST(:kind AS jurisdiction_kind), :name, :key, :state, :fips,
           coalesce((SELECT id FROM jurisdictions WHERE kind = 'COUNTY'
                                                    AND fips = CAST(:county AS text)),
                    (SELECT id FROM jurisdictions WHERE kind = 'STATE' AND state_code = :state))
    WHERE NOT EXISTS (SELECT 1 FROM existing)
    RETURNING id
)
SELECT id, false AS created FROM existing UNION ALL SELECT id, true FROM created
"""

_UPSERT_POLICY = """
INSERT INTO policies (jurisdiction_id, policy_key, status, declared_sanctuary, policy_name,
    effective_date, source_title, source_url, notes, source_key, source_date, basis,
    load_run_id)
VALUES (:jurisdiction_id, :policy_key, CAST(:status AS policy_status), :declared_sanctuary,
    :policy_name, :effective_date, :source_title, :source_url, :notes, :source_key,
    :source_date, CAST(:basis AS policy_basis), :load_run_id)
ON CONFLICT (jurisdiction_id, source_key, policy_key) DO UPDATE
SET status = EXCLUDED.status, declared_sanctuary = EXCLUDED.declared_sanctuary,
    source_title = EXCLUDED.source_title, notes = EXCLUDED.notes,
    source_date = EXCLUDED.source_date, basis = EXCLUDED.basis,
    load_run_id = EXCLUDED.load_run_id
WHERE (policies.status, policies.declared_sanctuary, policies.source_title, policies.notes,
       policies.source_date, policies.basis)
      IS DISTINCT FROM
      (EXCLUDED.status, EXCLUDED.declared_sanctuary, EXCLUDED.source_title, EXCLUDED.notes,
       EXCLUDED.source_date, EXCLUDED.basis)
RETURNING id, (xmax = 0) AS inserted
"""


async def merge_policies(
    conn: AsyncConnection, run_id: int, rows: Sequence[PolicyRow], issues: list[IssueRecord]
) -> LoadCounts:
    """Policy files are small (hundreds of rows): one statement per row is clear and fast."""
    counts = LoadCounts()
    new_jurisdictions: list[int] = []
    changed: list[int] = []
    summaries: dict[int, str] = {}
    for row in rows:
        jurisdiction_id, created = (
            await conn.execute(
                text(_FIND_OR_CREATE_JURISDICTION),
                {
                    "kind": row.kind.value,
                    "state": row.state_code,
                    "key": row.name_key,
                    "name": row.name,
                    "fips": row.fips,
                    "county": row.county_fips,
                },
            )
        ).one()
        if created:
            new_jurisdictions.append(jurisdiction_id)
        result = (
            await conn.execute(
                text(_UPSERT_POLICY),
                {
                    "jurisdiction_id": jurisdiction_id,
                    "policy_key": row.policy_key,
                    "status": row.status.value,
                    "declared_sanctuary": row.declared_sanctuary,
                    "policy_name": row.policy_name,
                    "effective_date": row.effective_date,
                    "source_title": row.source_title,
                    "source_url": row.source_url,
                    "notes": row.notes,
                    "source_key": row.source_key,
                    "source_date": row.source_date,
                    "basis": row.basis.value,
                    "load_run_id": run_id,
                },
            )
        ).one_or_none()
        if result is None:
            counts.unchanged += 1
            continue
        changed.append(result.id)
        what = "added" if result.inserted else "updated"
        sanctuary = ", declared sanctuary" if row.declared_sanctuary else ""
        summaries[result.id] = f"policy {what}: {row.status.value}{sanctuary}"
        if result.inserted:
            counts.inserted += 1
        else:
            counts.updated += 1
    await record_changes(conn, run_id, "jurisdiction", new_jurisdictions, ChangeOp.UPSERT)
    await record_changes(conn, run_id, "policy", changed, ChangeOp.UPSERT, summaries=summaries)
    return counts


async def remove_policies(removal: Removal) -> None:
    """The removal of policy CSVs: the assertions their runs wrote."""
    await removal.delete_rows_of_runs("policies", "policy")
