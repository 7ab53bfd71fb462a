"""Remove source files (datasets) and everything derived from them, in one transaction.

A dataset is removed, not hidden: its snapshots and their observations, the agreements
and agencies only it ever listed, the jurisdictions it created that nothing else uses,
its policies, officials and detainer cells, its load runs and issues, and the source file
itself. What survives is re-derived from the history that remains (status, dates, names),
and every record that disappeared gets a DELETE tombstone in the change sequence, so a
mirror that syncs from `/v1/changes` ends where a fresh export does. Earlier changes stay
(their `load_run_id` cleared): the sequence is never rewritten under a client.

Each source says how its own rows go (a `RemovalStep`, declared with the source in
`open287g/loaders/registry.py`); this frame does what every removal shares: the locks, the
files' load runs, the re-derivation of what stays (agreements, agencies, facilities), the
jurisdictions nothing uses any more, and the change feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.detainers import rematch_facilities
from open287g.db.ingest.ice287g import agreements_of, recompute_agencies, recompute_agreements
from open287g.db.ingest.provenance import lock_changes, lock_dataset, record_changes
from open287g.db.ingest.removed import IDS, Removal, RemovalStep, Removed
from open287g.db.models.enums import ChangeOp

__all__ = ["NotRemovable", "Removed", "holds_real_files", "remove_source_files", "select_files"]

# Jurisdictions a removed run created (its first UPSERT of them) and nothing uses any more.
# Run until nothing is left to delete: a place goes first, then the tribe... States and
# counties are reference data (every one exists whether or not a source names it): kept.
_DELETE_UNUSED_JURISDICTIONS = f"""
DELETE FROM jurisdictions j
WHERE j.id = ANY({IDS}) AND j.kind NOT IN ('STATE', 'COUNTY')
  AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.jurisdiction_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM agreement_observations o WHERE o.jurisdiction_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM policies p WHERE p.jurisdiction_id = j.id)
  AND NOT EXISTS (SELECT 1 FROM jurisdictions c WHERE c.parent_id = j.id)
RETURNING j.id
"""

# The order tombstones enter the change sequence (others follow, by name).
_TOMBSTONE_ORDER = (
    "agreement", "policy", "official", "agency", "detainer_facility", "jurisdiction", "dataset"
)  # fmt: skip


class NotRemovable(Exception):
    """Files of a dataset that declares no removal (nothing of them was removed)."""

    def __init__(self, dataset: str) -> None:
        super().__init__(f"{dataset} files cannot be removed")
        self.dataset = dataset


async def _ids(conn: AsyncConnection, sql: str, **params: object) -> list[int]:
    return [int(i) for i in (await conn.execute(text(sql), params)).scalars()]


async def select_files(
    conn: AsyncConnection, *, ids: Sequence[int] = (), demo: bool = False, synthetic: bool = False
) -> list[int]:
    """Source file ids by id, or every demo / synthetic one."""
    return await _ids(
        conn,
        f"SELECT id FROM source_files WHERE id = ANY({IDS})"
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


async def remove_source_files(
    conn: AsyncConnection, file_ids: Sequence[int], steps: Mapping[str, RemovalStep | None]
) -> Removed:
    """Remove these source files and what derives from them, each dataset's rows by its
    step in `steps` (in that order; a dataset without one is refused: `NotRemovable`).
    The caller owns the transaction: on any error nothing is removed."""
    files = sorted(set(file_ids))
    removed = Removed(files=files)
    if not files:
        return removed
    datasets = (
        await conn.execute(
            text(f"SELECT DISTINCT dataset FROM source_files WHERE id = ANY({IDS}) ORDER BY 1"),
            {"ids": files},
        )
    ).scalars().all()  # fmt: skip
    for dataset in datasets:
        if steps.get(dataset) is None:
            raise NotRemovable(dataset)
    for dataset in datasets:
        await lock_dataset(conn, dataset)
    await lock_changes(conn)  # the write phase: tombstones get seqs in commit order
    runs = await _ids(
        conn, f"SELECT id FROM load_runs WHERE source_file_id = ANY({IDS})", ids=files
    )
    created_jurisdictions = await _ids(
        conn,
        "SELECT DISTINCT entity_id FROM changes"
        f" WHERE entity = 'jurisdiction' AND load_run_id = ANY({IDS})",
        ids=runs,
    )
    removal = Removal(conn, files, runs, {entity: [] for entity in _TOMBSTONE_ORDER})
    for dataset, step in steps.items():
        if dataset in datasets and step is not None:
            await step(removal)

    # What stays is re-derived from the history that remains.
    upserts: dict[str, set[int]] = {}
    summaries = removal.summaries
    latest = (await conn.execute(text("SELECT max(published_on) FROM snapshots"))).scalar()
    rederived = await recompute_agreements(conn)
    upserts["agreement"] = {row.id for row in rederived}
    for row in rederived:
        said = row.describe(latest or dt.date.today())
        if said is not None:
            summaries[("agreement", row.id)] = f"{said} (a dataset was removed)"
    upserts["agency"] = await recompute_agencies(conn, sorted(removal.agencies))
    upserts["agreement"] |= await agreements_of(conn, upserts["agency"])

    while found := await _ids(conn, _DELETE_UNUSED_JURISDICTIONS, ids=created_jurisdictions):
        removal.gone("jurisdiction", found)
    # Survivors' totals changed (their /v1/facilities rows), and some were placed again.
    kept = removal.facilities - set(removal.tombstones["detainer_facility"])
    upserts["detainer_facility"] = set(await rematch_facilities(conn)) | kept

    await conn.execute(text(f"DELETE FROM load_runs WHERE id = ANY({IDS})"), {"ids": runs})
    for file_id, name in await conn.execute(
        text(f"DELETE FROM source_files WHERE id = ANY({IDS}) RETURNING id, name"),
        {"ids": files},
    ):
        removal.gone("dataset", [file_id])
        summaries[("dataset", file_id)] = f"removed {name}"

    for entity, kept_ids in upserts.items():
        told = {i: t for (e, i), t in summaries.items() if e == entity}
        removed.updated[entity] = await record_changes(
            conn, None, entity, kept_ids, ChangeOp.UPSERT, summaries=told
        )
    for entity, ended in removal.tombstones.items():
        told = {i: t for (e, i), t in summaries.items() if e == entity}
        removed.deleted[entity] = await record_changes(
            conn, None, entity, ended, ChangeOp.DELETE, summaries=told
        )
    return removed
