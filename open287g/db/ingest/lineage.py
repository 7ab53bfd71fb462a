"""Recompute agreement lineage from the snapshot history (rules: `db/lineage_match.py`).

Runs inside every recompute of agreements (`ice287g.recompute_agreements`), before the
statuses are derived, so a renamed agreement is `RENAMED`, never `ENDED`, whatever order
the snapshots were loaded in. Deterministic and idempotent: the same history and
overrides always give the same links, and only differences are written. Synchronous, so
the migration that introduced lineage runs it too; async callers use `run_sync`.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.lineage_match import (
    ARRIVAL_GAP_DAYS,
    Candidate,
    Link,
    LinkKind,
    Suspect,
    propose,
    resolve,
    state_suspects,
)

_CANDIDATES = """
WITH ordered AS (
    SELECT s.id, s.published_on,
           row_number() OVER (PARTITION BY s.kind
                              ORDER BY s.published_at DESC, f.fetched_at DESC, s.id DESC) AS rn
    FROM snapshots s JOIN source_files f ON f.id = s.source_file_id
)
SELECT g.id, g.state_code, CAST(g.model_code AS text),
       (array_agg(o.agency_name ORDER BY s.published_on DESC, s.rn))[1],
       min(s.published_on), max(s.published_on), bool_or(s.rn = 1),
       coalesce(array_agg(DISTINCT o.moa_url) FILTER (WHERE o.moa_url IS NOT NULL),
                CAST('{}' AS text[])),
       array_agg(DISTINCT s.published_on ORDER BY s.published_on),
       coalesce(array_agg(DISTINCT o.signed_on) FILTER (WHERE o.signed_on IS NOT NULL),
                CAST('{}' AS date[]))
FROM agreement_observations o
JOIN ordered s ON s.id = o.snapshot_id
JOIN agreements g ON g.id = o.agreement_id
GROUP BY g.id
"""

_OVERRIDES = """
SELECT action, predecessor_id, successor_id, coalesce(note, '')
FROM lineage_overrides ORDER BY load_run_id, row_number
"""


def candidates(conn: Connection) -> list[Candidate]:
    rows = conn.execute(text(_CANDIDATES))
    return [
        Candidate(
            int(r[0]),
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            bool(r[6]),
            frozenset(r[7]),
            tuple(r[8]),
            frozenset(r[9]),
        )
        for r in rows
    ]


def _reviewed(old: Candidate | None, new: Candidate | None, note: str) -> Link | None:
    """A reviewed link, its kind read from the two agreements as the matcher would."""
    if old is None or new is None:
        return None
    back = new.back_after(old.last_seen)
    gap = None if back is None else max(0, (back - old.last_seen).days)
    if old.model_code != new.model_code:
        kind = LinkKind.SWITCH
    elif old.state_code != new.state_code:
        kind = LinkKind.STATE
    elif gap is not None and gap > ARRIVAL_GAP_DAYS:
        kind = LinkKind.RELISTING
    else:
        kind = LinkKind.RENAME
    return Link(old.id, new.id, "override", None, note or "reviewed link", kind, gap)


def wanted_links(conn: Connection) -> list[Link]:
    """The links the history and the reviewed overrides call for."""
    found = candidates(conn)
    by_id = {c.id: c for c in found}
    forced: list[Link] = []
    forbidden: set[tuple[int, int]] = set()
    for action, old, new, note in conn.execute(text(_OVERRIDES)):
        if action == "link":
            link = _reviewed(by_id.get(int(old)), by_id.get(int(new)), note)
            if link is not None:
                forced.append(link)
        else:
            forbidden.add((int(old), int(new)))
    arrivals = {c.id: c.first_seen for c in found}
    return resolve(propose(found), arrivals, forced, frozenset(forbidden))


def suspects(conn: Connection) -> list[Suspect]:
    """Possible wrong-state rows the links leave unexplained (the quality report's)."""
    found = candidates(conn)
    stored = [
        Link(int(r[0]), int(r[1]), "", None, "")
        for r in conn.execute(text("SELECT predecessor_id, successor_id FROM agreement_links"))
    ]
    return state_suspects(found, stored)


def recompute_lineage(conn: Connection) -> set[int]:
    """Write the wanted links; the agreements (both ends) whose lineage changed."""
    wanted = {link.predecessor_id: link for link in wanted_links(conn)}
    stored = {
        int(r[0]): Link(int(r[0]), int(r[1]), r[2], r[3], r[4], LinkKind(r[5]), r[6])
        for r in conn.execute(
            text(
                "SELECT predecessor_id, successor_id, method, score, evidence, kind, gap_days"
                " FROM agreement_links"
            )
        )
    }
    changed: set[int] = set()
    gone = [old for old, link in stored.items() if wanted.get(old) != link]
    if gone:
        conn.execute(
            text("DELETE FROM agreement_links WHERE predecessor_id = ANY(CAST(:ids AS bigint[]))"),
            {"ids": gone},
        )
        for old in gone:
            changed |= {old, stored[old].successor_id}
    new = [link for old, link in wanted.items() if stored.get(old) != link]
    if new:
        conn.execute(
            text(
                "INSERT INTO agreement_links (predecessor_id, successor_id, method, score,"
                " evidence, kind, gap_days) SELECT * FROM unnest(CAST(:p AS bigint[]),"
                " CAST(:s AS bigint[]), CAST(:m AS text[]), CAST(:sc AS float8[]),"
                " CAST(:e AS text[]), CAST(:k AS text[]), CAST(:g AS int[]))"
            ),
            {
                "p": [link.predecessor_id for link in new],
                "s": [link.successor_id for link in new],
                "m": [link.method for link in new],
                "sc": [link.score for link in new],
                "e": [link.evidence for link in new],
                "k": [link.kind.value for link in new],
                "g": [link.gap_days for link in new],
            },
        )
        for link in new:
            changed |= {link.predecessor_id, link.successor_id}
    return changed


# Each agreement's lineage's first sight: the earliest first_seen of it and its
# predecessors along the links (a model switch starts a new lineage: not followed; UNION
# stops a cycle). Stored in agreements.lineage_first_seen so that a page reads a column
# instead of walking the links for every row; only the rows whose value moved are written.
_REFRESH_LINEAGE_FIRST_SEEN = """
WITH RECURSIVE chain(id, ancestor) AS (
    SELECT id, id FROM agreements
    UNION
    SELECT c.id, l.predecessor_id FROM chain c
    JOIN agreement_links l ON l.successor_id = c.ancestor AND l.kind <> 'SWITCH'
), walked AS (
    SELECT c.id, min(g.first_seen) AS first_seen
    FROM chain c JOIN agreements g ON g.id = c.ancestor GROUP BY c.id
)
UPDATE agreements g SET lineage_first_seen = w.first_seen FROM walked w
WHERE g.id = w.id AND g.lineage_first_seen IS DISTINCT FROM w.first_seen
"""


async def refresh_lineage_first_seen(conn: AsyncConnection) -> None:
    """Recompute `agreements.lineage_first_seen` in the load's transaction, after its
    links and first sights are written (`ice287g.recompute_agreements`: every load, removal
    and override that can move them). Which agreements it moved the caller knows already:
    the changed ones and their `descendants`."""
    await conn.execute(text(_REFRESH_LINEAGE_FIRST_SEEN))


async def statuses(conn: AsyncConnection, ids: set[int]) -> list[tuple[int, str]]:
    """(id, status) of these agreements, for the change feed of relinked ones."""
    rows = await conn.execute(
        text(
            "SELECT id, CAST(status AS text) FROM agreements"
            " WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id"
        ),
        {"ids": sorted(ids)},
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def descendants(conn: AsyncConnection, ids: set[int]) -> set[int]:
    """Every agreement downstream of these along the links: a successor's record carries
    its lineage's first sight, which moves when anything upstream changes."""
    if not ids:
        return set()
    rows = await conn.execute(
        text(
            """
            WITH RECURSIVE down(id) AS (
                SELECT successor_id FROM agreement_links
                WHERE predecessor_id = ANY(CAST(:ids AS bigint[]))
                UNION
                SELECT l.successor_id FROM down d JOIN agreement_links l ON l.predecessor_id = d.id
            )
            SELECT id FROM down
            """
        ),
        {"ids": sorted(ids)},
    )
    return set(rows.scalars())
