"""Remove source files (datasets) and everything derived from them, in one transaction.

A dataset is removed, not hidden: its snapshots and their observations, the agreements
and agencies only it ever listed, the jurisdictions it created that nothing else uses,
its policies, officials and detainer cells, its load runs and issues, and the source file
itself. What survives is re-derived from the history that remains (status, dates, names),
and every record that disappeared gets a DELETE tombstone in the change sequence, so a
mirror that syncs from `/v1/changes` ends where a fresh export does. Earlier changes stay
(their `load_run_id` cleared): the sequence is never rewritten under a client.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.detainers import rematch_facilities
from open287g.db.ingest.ice287g import (
    agreements_of,
    recompute_agencies,
    recompute_agreements,
)
from open287g.db.ingest.provenance import lock_changes, lock_dataset, record_changes
from open287g.db.models.enums import ChangeOp

_IDS = "CAST(:ids AS bigint[])"

# Jurisdictions a removed run created (its first UPSERT of them) and nothing uses any more.
# Run until nothing is left to delete: a place goes first, then the tribe... States and
# counties are reference data (every one exists whether or not a source names it): kept.
_DELETE_UNUSED_JURISDICTIONS = f"""
DELETE FROM jurisdictions j
WHERE j.id = ANY({_IDS}) AND j.kind NOT IN ('STATE', 'COUNTY')
  AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.jurisdiction_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM agreement_observations o WHERE o.jurisdiction_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM policies p WHERE p.jurisdiction_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM jurisdictions c WHERE c.parent_id = j.id)
RETURNING j.id
"""


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


async def _ids(conn: AsyncConnection, sql: str, **params: object) -> list[int]:
    return [int(i) for i in (await conn.execute(text(sql), params)).scalars()]


async def select_files(
    conn: AsyncConnection, *, ids: Sequence[int] = (), demo: bool = False, synthetic: bool = False
) -> list[int]:
    """Source file ids by id, or every demo / synthetic one."""
    return await _ids(
        conn,
        f"SELECT id FROM source_files WHERE id = ANY({_IDS})"
        " OR (:demo AND is_demo) OR (:synthetic AND is_synthetic) ORDER BY id",
        ids=list(ids),
        demo=demo,
        synthetic=synthetic,
    )


async def holds_real_files(conn: AsyncConnection, dataset: str) -> bool:
    """Whether any file of `dataset` that is not demo data is loaded."""
    found = await conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM source_files WHERE dataset = :d AND NOT is_demo)"),
        {"d": dataset},
    )
    return bool(found.scalar_one())


async def remove_source_files(conn: AsyncConnection, file_ids: Sequence[int]) -> Removed:
    """Remove these source files and what derives from them. The caller owns the
    transaction: on any error nothing is removed."""
    files = sorted(set(file_ids))
    removed = Removed(files=files)
    if not files:
        return removed
    datasets = await conn.execute(
        text(f"SELECT DISTINCT dataset FROM source_files WHERE id = ANY({_IDS}) ORDER BY 1"),
        {"ids": files},
    )
    for dataset in datasets.scalars().all():
        await lock_dataset(conn, dataset)
    await lock_changes(conn)  # the write phase: tombstones get seqs in commit order
    runs = await _ids(
        conn, f"SELECT id FROM load_runs WHERE source_file_id = ANY({_IDS})", ids=files
    )
    created_jurisdictions = await _ids(
        conn,
        "SELECT DISTINCT entity_id FROM changes"
        f" WHERE entity = 'jurisdiction' AND load_run_id = ANY({_IDS})",
        ids=runs,
    )
    tombstones: dict[str, list[int]] = {}
    upserts: dict[str, set[int]] = {}  # records that stay, re-derived
    summaries: dict[tuple[str, int], str] = {}  # (entity, id) → what happened, in words

    # ICE lists: drop the snapshots (observations go with them), then what only they held.
    touched = await _ids(
        conn,
        "SELECT DISTINCT o.agreement_id FROM agreement_observations o"
        f" JOIN snapshots s ON s.id = o.snapshot_id WHERE s.source_file_id = ANY({_IDS})",
        ids=files,
    )
    touched_agencies = await _ids(
        conn, f"SELECT DISTINCT agency_id FROM agreements WHERE id = ANY({_IDS})", ids=touched
    )
    await conn.execute(
        text(f"DELETE FROM snapshots WHERE source_file_id = ANY({_IDS})"), {"ids": files}
    )
    gone = await conn.execute(
        text(
            f"DELETE FROM agreements g WHERE g.id = ANY({_IDS}) AND NOT EXISTS"
            " (SELECT 1 FROM agreement_observations o WHERE o.agreement_id = g.id)"
            " RETURNING g.id, (SELECT a.name FROM agencies a WHERE a.id = g.agency_id),"
            " g.state_code, CAST(g.model_code AS text)"
        ),
        {"ids": touched},
    )
    tombstones["agreement"] = []
    for agreement_id, agency, state, model in gone:
        tombstones["agreement"].append(agreement_id)
        summaries[("agreement", agreement_id)] = (
            f"removed with its dataset: {agency} ({state}, {model})"
        )
    orphans = await _ids(
        conn,
        f"SELECT a.id FROM agencies a WHERE a.id = ANY({_IDS})"
        " AND NOT EXISTS (SELECT 1 FROM agreements g WHERE g.agency_id = a.id)",
        ids=touched_agencies,
    )
    # Policies and officials a removed run wrote, and officials of agencies that go.
    tombstones["policy"] = await _ids(
        conn, f"DELETE FROM policies WHERE load_run_id = ANY({_IDS}) RETURNING id", ids=runs
    )
    tombstones["official"] = await _ids(
        conn,
        f"DELETE FROM officials WHERE load_run_id = ANY(CAST(:runs AS bigint[]))"
        f" OR agency_id = ANY({_IDS}) RETURNING id",
        runs=runs,
        ids=orphans,
    )
    tombstones["agency"] = await _ids(
        conn, f"DELETE FROM agencies WHERE id = ANY({_IDS}) RETURNING id", ids=orphans
    )
    latest = (await conn.execute(text("SELECT max(published_on) FROM snapshots"))).scalar()
    rederived = await recompute_agreements(conn)
    upserts["agreement"] = {row.id for row in rederived}
    for row in rederived:
        said = row.describe(latest or dt.date.today())
        if said is not None:
            summaries[("agreement", row.id)] = f"{said} (a dataset was removed)"
    survivors = sorted(set(touched_agencies) - set(orphans))
    upserts["agency"] = await recompute_agencies(conn, survivors)
    upserts["agreement"] |= await agreements_of(conn, upserts["agency"])

    # Detainer cells of removed releases, and facilities no release mentions any more.
    facilities = await _ids(
        conn,
        f"DELETE FROM detainer_stats WHERE source_file_id = ANY({_IDS}) RETURNING facility_id",
        ids=files,
    )
    tombstones["detainer_facility"] = await _ids(
        conn,
        f"DELETE FROM detainer_facilities f WHERE f.id = ANY({_IDS}) AND NOT EXISTS"
        " (SELECT 1 FROM detainer_stats s WHERE s.facility_id = f.id) RETURNING f.id",
        ids=sorted(set(facilities)),
    )

    deleted_jurisdictions: list[int] = []
    while found := await _ids(conn, _DELETE_UNUSED_JURISDICTIONS, ids=created_jurisdictions):
        deleted_jurisdictions += found
    tombstones["jurisdiction"] = deleted_jurisdictions
    # Survivors' totals changed (their /v1/facilities rows), and some were placed again.
    kept = set(facilities) - set(tombstones["detainer_facility"])
    upserts["detainer_facility"] = set(await rematch_facilities(conn)) | kept

    await conn.execute(text(f"DELETE FROM load_runs WHERE id = ANY({_IDS})"), {"ids": runs})
    tombstones["dataset"] = []
    for file_id, name in await conn.execute(
        text(f"DELETE FROM source_files WHERE id = ANY({_IDS}) RETURNING id, name"),
        {"ids": files},
    ):
        tombstones["dataset"].append(file_id)
        summaries[("dataset", file_id)] = f"removed {name}"

    for entity, kept in upserts.items():
        told = {i: t for (e, i), t in summaries.items() if e == entity}
        removed.updated[entity] = await record_changes(
            conn, None, entity, kept, ChangeOp.UPSERT, summaries=told
        )
    for entity, ended in tombstones.items():
        told = {i: t for (e, i), t in summaries.items() if e == entity}
        removed.deleted[entity] = await record_changes(
            conn, None, entity, ended, ChangeOp.DELETE, summaries=told
        )
    return removed
