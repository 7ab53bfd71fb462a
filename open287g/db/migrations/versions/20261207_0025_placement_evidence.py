"""Placement evidence on every agency (#21): how it was placed in its jurisdiction
(`placement_method`: OVERRIDE, AGENCY_NAME, COUNTY_CELL, TYPE or STATE_ONLY), the evidence
in words (`placement_evidence`) and where ICE's cells contradict each other
(`placement_conflict`), kept on each list row (`agreement_observations`) and on the agency
from its newest row, as its jurisdiction is. Until now this lived only in `load_issues`.

Stored rows are filled here by the loader's own placement rules over the cells each row
kept (state, agency name, TYPE, COUNTY) and the overrides in force; the jurisdiction each
row was placed in is not touched. Every agency is re-emitted in the change feed (its REST
record has new fields).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from open287g.loaders.ice287g.counties import placements_of

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("placement_method", "OVERRIDE, AGENCY_NAME, COUNTY_CELL, TYPE or STATE_ONLY"),
    ("placement_evidence", "the evidence that placed it, in words"),
    ("placement_conflict", "where ICE's cells about its place contradict each other"),
)

_OVERRIDES = """
SELECT DISTINCT ON (state_code, agency_key) state_code, agency_key, county_fips, place, note
FROM placement_overrides ORDER BY state_code, agency_key, load_run_id IS NULL, id DESC
"""

_CELLS = """
SELECT DISTINCT g.state_code, o.agency_name, CAST(o.agency_type AS text), o.county
FROM agreement_observations o JOIN agreements g ON g.id = o.agreement_id
"""


def upgrade() -> None:
    for table in ("agreement_observations", "agencies"):
        for name, comment in _COLUMNS:
            op.add_column(table, sa.Column(name, sa.Text(), nullable=True, comment=comment))
    bind = op.get_bind()
    overrides = [tuple(r) for r in bind.execute(sa.text(_OVERRIDES))]
    cells = [tuple(r) for r in bind.execute(sa.text(_CELLS))]
    placed = placements_of(cells, overrides)
    bind.execute(
        sa.text(
            "CREATE TEMPORARY TABLE placed (state_code text, agency_name text,"
            " agency_type text, county text, method text, evidence text, conflict text)"
            " ON COMMIT DROP"
        )
    )
    if placed:
        bind.execute(
            sa.text(
                "INSERT INTO placed VALUES (:state, :name, :type, :county, :method, :evidence,"
                " :conflict)"
            ),
            [
                {"state": s, "name": n, "type": t, "county": c, "method": m, "evidence": e,
                 "conflict": x}
                for (s, n, t, c), (m, e, x) in placed.items()
            ],
        )  # fmt: skip
    op.execute(
        "UPDATE agreement_observations o SET placement_method = p.method,"
        " placement_evidence = p.evidence, placement_conflict = p.conflict"
        " FROM agreements g, placed p WHERE g.id = o.agreement_id"
        " AND p.state_code = g.state_code AND p.agency_name = o.agency_name"
        " AND p.agency_type = CAST(o.agency_type AS text)"
        " AND p.county IS NOT DISTINCT FROM o.county"
    )
    # Each agency from its newest list row, as its name, type and jurisdiction are.
    op.execute(
        """
        WITH ordered AS (
            SELECT s.id, row_number() OVER (PARTITION BY s.kind ORDER BY s.published_at DESC,
                   f.fetched_at DESC, s.id DESC) AS rn
            FROM snapshots s JOIN source_files f ON f.id = s.source_file_id
        ), newest AS (
            SELECT DISTINCT ON (g.agency_id) g.agency_id, o.placement_method,
                   o.placement_evidence, o.placement_conflict
            FROM agreement_observations o JOIN agreements g ON g.id = o.agreement_id
            JOIN ordered s ON s.id = o.snapshot_id
            ORDER BY g.agency_id, s.rn, o.row_number
        )
        UPDATE agencies a SET placement_method = n.placement_method,
            placement_evidence = n.placement_evidence, placement_conflict = n.placement_conflict
        FROM newest n WHERE a.id = n.agency_id
        """
    )
    op.execute(
        "INSERT INTO changes (entity, entity_id, op)"
        " SELECT 'agency', id, 'UPSERT' FROM agencies ORDER BY id"
    )


def downgrade() -> None:
    for table in ("agencies", "agreement_observations"):
        for name, _ in reversed(_COLUMNS):
            op.drop_column(table, name)
