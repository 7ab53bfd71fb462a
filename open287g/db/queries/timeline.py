"""Agreements over time, from the snapshot history (`snapshots`, `agreement_observations`):
the counts every ICE list date gave, and where each agreement was first seen, activated and
last seen, with the file that says so. Read by the HTML pages; the APIs answer the same
questions with `agreements(asOf:)` and `firstSeen`/`lastSeen`.

A list date's counts follow the same rule as `agreements(asOf:)` (`agreements.as_of_ctes`): the
latest participating and the latest pending list published on or before that date; an
agreement on the participating list is ACTIVE, one on the pending list only is PENDING.
tests/test_pages_queries.py checks the two agree on every date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class ListCount:
    day: dt.date
    model_code: str
    status: str  # ACTIVE or PENDING
    count: int


_PER_LIST_DATE = """
WITH days AS (SELECT DISTINCT published_on AS day FROM snapshots),
latest AS (
    SELECT d.day, k.kind, (
        SELECT s.id FROM snapshots s JOIN source_files f ON f.id = s.source_file_id
        WHERE s.kind = k.kind AND s.published_on <= d.day
        ORDER BY s.published_at DESC, f.fetched_at DESC, s.id DESC LIMIT 1
    ) AS snapshot_id
    FROM days d
    CROSS JOIN (SELECT DISTINCT kind FROM snapshots) k
),
listed AS (
    SELECT l.day, o.agreement_id, bool_or(l.kind = 'PARTICIPATING') AS participating
    FROM latest l JOIN agreement_observations o ON o.snapshot_id = l.snapshot_id
    GROUP BY l.day, o.agreement_id
)
SELECT listed.day, CAST(a.model_code AS text),
       CASE WHEN listed.participating THEN 'ACTIVE' ELSE 'PENDING' END, count(*)
FROM listed JOIN agreements a ON a.id = listed.agreement_id
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""


async def counts_per_list_date(conn: AsyncConnection) -> list[ListCount]:
    """Active and pending agreements by model on every date an ICE list was published.

    JIT is off for this statement's transaction: before autovacuum has analyzed freshly
    loaded tables the planner guesses millions of rows here and spends ~0.7 s compiling a
    plan that runs in 20 ms (measured on the 54 real snapshots)."""
    await conn.execute(text("SET LOCAL jit = off"))
    rows = await conn.execute(text(_PER_LIST_DATE))
    return [ListCount(day, model, status, int(n)) for day, model, status, n in rows]


@dataclass(frozen=True)
class Sighting:
    """One list that named an agreement, and the file it came from."""

    agreement_id: int
    event: str  # FIRST_SEEN, ACTIVATED, LATEST_PARTICIPATING, LAST_SEEN, ABSENT_FROM
    published_on: dt.date
    kind: str  # PARTICIPATING or PENDING
    source_file_id: int
    file_name: str
    sha256: str


_SIGHTINGS = """
WITH obs AS (
    SELECT o.agreement_id, s.id AS snapshot_id, s.published_on, s.published_at,
           CAST(s.kind AS text) AS kind, f.id AS file_id, f.name, f.sha256, f.fetched_at
    FROM agreement_observations o
    JOIN snapshots s ON s.id = o.snapshot_id
    JOIN source_files f ON f.id = s.source_file_id
    WHERE o.agreement_id = ANY(CAST(:ids AS bigint[]))
), first_seen AS (
    SELECT DISTINCT ON (agreement_id) * FROM obs
    ORDER BY agreement_id, published_at, fetched_at, snapshot_id
), activated AS (
    SELECT DISTINCT ON (agreement_id) * FROM obs WHERE kind = 'PARTICIPATING'
    ORDER BY agreement_id, published_at, fetched_at, snapshot_id
), latest_participating AS (
    SELECT DISTINCT ON (agreement_id) * FROM obs WHERE kind = 'PARTICIPATING'
    ORDER BY agreement_id, published_at DESC, fetched_at DESC, snapshot_id DESC
), last_seen AS (
    SELECT DISTINCT ON (agreement_id) * FROM obs
    ORDER BY agreement_id, published_at DESC, fetched_at DESC, snapshot_id DESC
), absent_from AS (
    -- the first list of the same kind after the last one naming the agreement
    SELECT l.agreement_id, s.id AS snapshot_id, s.published_on, s.published_at,
           CAST(s.kind AS text) AS kind, f.id AS file_id, f.name, f.sha256, f.fetched_at
    FROM last_seen l
    CROSS JOIN LATERAL (
        SELECT s.* FROM snapshots s JOIN source_files sf ON sf.id = s.source_file_id
        WHERE CAST(s.kind AS text) = l.kind
          AND (s.published_at, sf.fetched_at, s.id) > (l.published_at, l.fetched_at, l.snapshot_id)
        ORDER BY s.published_at, sf.fetched_at, s.id LIMIT 1
    ) s
    JOIN source_files f ON f.id = s.source_file_id
)
SELECT agreement_id, 'FIRST_SEEN', published_on, kind, file_id, name, sha256 FROM first_seen
UNION ALL
SELECT agreement_id, 'ACTIVATED', published_on, kind, file_id, name, sha256 FROM activated
UNION ALL
SELECT agreement_id, 'LATEST_PARTICIPATING', published_on, kind, file_id, name, sha256
FROM latest_participating
UNION ALL
SELECT agreement_id, 'LAST_SEEN', published_on, kind, file_id, name, sha256 FROM last_seen
UNION ALL
SELECT agreement_id, 'ABSENT_FROM', published_on, kind, file_id, name, sha256 FROM absent_from
"""


async def sightings(
    conn: AsyncConnection, agreement_ids: Sequence[int]
) -> dict[int, dict[str, Sighting]]:
    """For each agreement, {event: sighting}: the list that first named it, the first
    participating list (activation), the latest participating list (where its current
    signed date and MOA link come from), the last list naming it, and the first list of
    that kind published after it (absent from; only for agreements no longer listed there)."""
    rows = await conn.execute(text(_SIGHTINGS), {"ids": list(agreement_ids)})
    found: dict[int, dict[str, Sighting]] = {agreement_id: {} for agreement_id in agreement_ids}
    for row in rows:
        sighting = Sighting(*row)
        found[sighting.agreement_id][sighting.event] = sighting
    return found


@dataclass(frozen=True)
class ArchiveStart:
    """Where the archive of ICE's lists begins (and ends): its first list of each kind,
    and the earliest of them; its newest of each kind and how many lists it holds. An
    agreement first seen on the first list of its kind may have been listed long before:
    pages say "first seen in this archive", never "first listed". Read from the
    snapshots loaded, never a constant."""

    start: dt.date | None
    first_of_kind: dict[str, dt.date]
    latest_of_kind: dict[str, dt.date] = field(default_factory=dict)
    lists: int = 0

    @property
    def end(self) -> dt.date | None:
        return max(self.latest_of_kind.values(), default=None)

    def at_start(self, kind: str, day: dt.date | None) -> bool:
        """Whether a first sighting on `day`, on a list of `kind`, is the archive's first
        list of that kind, so says nothing of when it began."""
        return day is not None and self.first_of_kind.get(kind) == day


async def archive_start(conn: AsyncConnection) -> ArchiveStart:
    rows = (
        await conn.execute(
            text(
                "SELECT CAST(kind AS text), min(published_on), max(published_on), count(*)"
                " FROM snapshots GROUP BY 1"
            )
        )
    ).all()
    first = {str(r[0]): r[1] for r in rows}
    return ArchiveStart(
        min(first.values()) if first else None,
        first,
        {str(r[0]): r[2] for r in rows},
        sum(int(r[3]) for r in rows),
    )


# Agreements whose first sighting was on the archive's first list of that list's kind (any
# list of that date carrying them: a first sighting on both lists counts either way).
_AT_START = """
WITH firsts AS (SELECT kind, min(published_on) AS day FROM snapshots GROUP BY kind)
SELECT DISTINCT o.agreement_id
FROM agreement_observations o
JOIN snapshots s ON s.id = o.snapshot_id
JOIN firsts f ON f.kind = s.kind AND f.day = s.published_on
JOIN agreements g ON g.id = o.agreement_id AND g.first_seen = s.published_on
WHERE o.agreement_id = ANY(CAST(:ids AS bigint[]))
"""


async def first_seen_at_start(conn: AsyncConnection, agreement_ids: Sequence[int]) -> set[int]:
    """Of these agreements, those first seen on the archive's first list of the kind that
    first carried them: their `firstSeen` is the archive's start, not their beginning.
    Per agreement, not by date alone (an agreement first seen on the first participating
    list is at the start; one first seen that day on a later pending list is not)."""
    if not agreement_ids:
        return set()
    rows = await conn.execute(text(_AT_START), {"ids": list(agreement_ids)})
    return {int(r[0]) for r in rows}
