"""Store placements recomputed for list rows already stored (the `placements` refresh of
`open287g/loaders/derived.py`): the cells each row kept in, (method, evidence, conflict)
out, and each agency from its newest row, as a load leaves it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.ingest.ice287g import recompute_agencies

Cells = tuple[str, str, str, str | None]  # state, agency name, TYPE (stored value), COUNTY
Placement = tuple[str, str | None, str | None]  # method, evidence, conflict

_CELLS = """
SELECT DISTINCT g.state_code, o.agency_name, CAST(o.agency_type AS text), o.county
FROM agreement_observations o JOIN agreements g ON g.id = o.agreement_id
"""

_UPDATE_ROWS = """
UPDATE agreement_observations o SET placement_method = p.method,
    placement_evidence = p.evidence, placement_conflict = p.conflict
FROM agreements g, unnest(CAST(:state AS text[]), CAST(:name AS text[]), CAST(:type AS text[]),
    CAST(:county AS text[]), CAST(:method AS text[]), CAST(:evidence AS text[]),
    CAST(:conflict AS text[])) AS p(state_code, agency_name, agency_type, county, method,
    evidence, conflict)
WHERE g.id = o.agreement_id AND p.state_code = g.state_code AND p.agency_name = o.agency_name
  AND p.agency_type = CAST(o.agency_type AS text) AND p.county IS NOT DISTINCT FROM o.county
  AND (o.placement_method, o.placement_evidence, o.placement_conflict)
      IS DISTINCT FROM (p.method, p.evidence, p.conflict)
"""


async def stored_cells(conn: AsyncConnection) -> list[Cells]:
    """The distinct placing cells of every stored list row."""
    return [(r[0], r[1], r[2], r[3]) for r in await conn.execute(text(_CELLS))]


async def store_placements(conn: AsyncConnection, placed: Mapping[Cells, Placement]) -> set[int]:
    """Write each row's placement; the agencies whose record changed."""
    cells = list(placed)
    await conn.execute(
        text(_UPDATE_ROWS),
        {
            "state": [c[0] for c in cells],
            "name": [c[1] for c in cells],
            "type": [c[2] for c in cells],
            "county": [c[3] for c in cells],
            "method": [placed[c][0] for c in cells],
            "evidence": [placed[c][1] for c in cells],
            "conflict": [placed[c][2] for c in cells],
        },
    )
    agencies = (await conn.execute(text("SELECT id FROM agencies ORDER BY id"))).scalars()
    return await recompute_agencies(conn, list(agencies))
