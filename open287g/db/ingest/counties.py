"""Apply a gazetteer plan to the stored county jurisdictions (see `loaders/ice287g/rematch.py`).

Synchronous on purpose: the migration that introduced the gazetteer runs it on Alembic's
connection, and loads run it through `AsyncConnection.run_sync`. Only counties without a
FIPS code are looked at, so after the first run a load touches just the counties it made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from open287g.db.ingest.provenance import CHANGES_LOCK_SQL


class StoredCounty(NamedTuple):
    id: int
    state_code: str
    name: str


@dataclass(frozen=True)
class CountyTarget:
    """The real county a stored one means: official name, jurisdiction key, FIPS."""

    name: str
    key: str
    fips: str
    method: str
    score: float


@dataclass
class RematchResult:
    exact: int = 0
    similar: int = 0
    unmatched: int = 0
    merged: dict[int, int] = field(default_factory=dict)  # removed county id → real one
    changed_jurisdictions: set[int] = field(default_factory=set)
    removed_jurisdictions: set[int] = field(default_factory=set)
    changed_agencies: set[int] = field(default_factory=set)


def stored_counties(conn: Connection) -> list[StoredCounty]:
    rows = conn.execute(
        text(
            "SELECT id, state_code, name FROM jurisdictions"
            " WHERE kind = 'COUNTY' AND fips IS NULL ORDER BY id"
        )
    )
    return [StoredCounty(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def apply_county_targets(
    conn: Connection, plan: Mapping[int, CountyTarget | None], run_id: int | None = None
) -> RematchResult:
    """Exact matches first, so a misspelling merges into the real county when both exist."""
    result = RematchResult()
    states: dict[int, str] = {
        int(row[0]): str(row[1])
        for row in conn.execute(
            text("SELECT id, state_code FROM jurisdictions WHERE kind = 'COUNTY'")
        )
    }

    def exact_first(county_id: int) -> tuple[bool, int]:
        target = plan[county_id]
        return (target is None or target.method != "exact", county_id)

    order = sorted(plan, key=exact_first)
    for county_id in order:
        target = plan[county_id]
        state_code = states[county_id]
        if target is None:
            result.unmatched += 1
            state_id = conn.execute(
                text("SELECT id FROM jurisdictions WHERE kind = 'STATE' AND state_code = :s"),
                {"s": state_code},
            ).scalar_one()
            _repoint(conn, county_id, state_id, result, keep_policies=True)
            continue
        if target.method == "exact":
            result.exact += 1
        else:
            result.similar += 1
        real = conn.execute(
            text(
                "SELECT id FROM jurisdictions WHERE kind = 'COUNTY' AND state_code = :s"
                " AND name_key = :k AND id <> :id"
            ),
            {"s": state_code, "k": target.key, "id": county_id},
        ).scalar_one_or_none()
        if real is not None:
            _repoint(conn, county_id, int(real), result, keep_policies=False)
            result.merged[county_id] = int(real)
            county_id = int(real)
        conn.execute(
            text("UPDATE jurisdictions SET name = :n, name_key = :k, fips = :f WHERE id = :id"),
            {"n": target.name, "k": target.key, "f": target.fips, "id": county_id},
        )
        result.changed_jurisdictions.add(county_id)
    result.changed_jurisdictions -= result.removed_jurisdictions
    _record(conn, run_id, "jurisdiction", result.changed_jurisdictions, "UPSERT")
    _record(conn, run_id, "jurisdiction", result.removed_jurisdictions, "DELETE")
    _record(conn, run_id, "agency", result.changed_agencies, "UPSERT")
    return result


def _repoint(
    conn: Connection, old: int, new: int, result: RematchResult, *, keep_policies: bool
) -> None:
    """Move what hangs on county `old` to `new`, then remove `old` if nothing is left on it.

    Policies are claims about a place: they follow a misspelled county into the real one,
    but are never moved to a state (the county then stays, as the policy's subject)."""
    params = {"old": old, "new": new}
    agencies = conn.execute(
        text(
            "UPDATE agencies SET jurisdiction_id = :new WHERE jurisdiction_id = :old RETURNING id"
        ),
        params,
    ).scalars()
    result.changed_agencies.update(int(a) for a in agencies)
    conn.execute(
        text(
            "UPDATE agreement_observations SET jurisdiction_id = :new WHERE jurisdiction_id = :old"
        ),
        params,
    )
    children = conn.execute(
        text("UPDATE jurisdictions SET parent_id = :new WHERE parent_id = :old RETURNING id"),
        params,
    ).scalars()
    result.changed_jurisdictions.update(int(c) for c in children)
    if not keep_policies:
        conn.execute(
            text("UPDATE policies SET jurisdiction_id = :new WHERE jurisdiction_id = :old"),
            params,
        )
    held = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM policies WHERE jurisdiction_id = :old)"), params
    ).scalar_one()
    if not held:
        conn.execute(text("DELETE FROM jurisdictions WHERE id = :old"), params)
        result.removed_jurisdictions.add(old)


def _record(conn: Connection, run_id: int | None, entity: str, ids: Iterable[int], op: str) -> None:
    """Change-feed rows, except for records this run has already announced."""
    ordered = sorted(set(ids))
    if not ordered:
        return
    conn.execute(text(CHANGES_LOCK_SQL))  # seqs commit in order (provenance.lock_changes)
    conn.execute(
        text(
            "INSERT INTO changes (entity, entity_id, op, load_run_id)"
            " SELECT :entity, id, CAST(:op AS change_op), :run"
            " FROM unnest(CAST(:ids AS bigint[])) AS id"
            " WHERE CAST(:run AS bigint) IS NULL OR NOT EXISTS (SELECT 1 FROM changes c"
            "   WHERE c.entity = :entity AND c.entity_id = id AND c.load_run_id = :run"
            "   AND c.op = CAST(:op AS change_op))"
            " ORDER BY id"
        ),
        {"entity": entity, "op": op, "run": run_id, "ids": ordered},
    )
