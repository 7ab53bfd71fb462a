"""Detainer cells carry their place in their group's rounding order (`rank`, 1…n from the
keyed hash) and whether they are alone in it (`alone`), so a breakdown by a personal
attribute rounds in the primary-key order without sorting and without a second pass over
each group (the only layout rounded down instead of up is a group of one cell).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 16:00:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rebuild both tables for some months from `detainer_stats` (charge categories summed).
# Ranks and offsets hash the facility's natural key (not its surrogate id), so a database
# rebuilt with the same key publishes the same values; ties (never seen: 128-bit hashes)
# fall back to the categories in byte order, the same under any collation.
REFRESH_FUNCTION = """
CREATE OR REPLACE FUNCTION detainer_publication_refresh(months date[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    SELECT secret INTO STRICT k FROM disclosure_keys WHERE name = 'detainers';
    DELETE FROM detainer_cells WHERE month = ANY(months);
    DELETE FROM detainer_totals WHERE month = ANY(months);
    INSERT INTO detainer_cells (facility_id, month, outcome, rank, criminality, citizenship,
                                detainers, alone, group_offset)
    SELECT facility_id, month, outcome,
           row_number() OVER w, criminality, citizenship, n, count(*) OVER g = 1,
           group_offset
    FROM (
        SELECT c.facility_id, c.month, c.outcome, c.criminality, c.citizenship, c.n,
               md5(concat_ws('|', k, 'cell', f.state_code, f.name_key, f.code,
                   c.month, c.outcome, c.criminality, c.citizenship)) AS cell_key,
               ('x' || substr(md5(concat_ws('|', k, 'group', f.state_code, f.name_key,
                   f.code, c.month, c.outcome)), 1, 13))::bit(52)::bigint
                   / 4503599627370496.0 AS group_offset
        FROM (SELECT facility_id, month, outcome, criminality, citizenship, sum(count) AS n
              FROM detainer_stats WHERE month = ANY(months)
              GROUP BY facility_id, month, outcome, criminality, citizenship) c
        JOIN detainer_facilities f ON f.id = c.facility_id
        WHERE c.n > 0
    ) keyed
    WINDOW g AS (PARTITION BY facility_id, month, outcome),
           w AS (g ORDER BY cell_key COLLATE "C", criminality COLLATE "C",
                 citizenship COLLATE "C");
    INSERT INTO detainer_totals (facility_id, month, outcome, detainers)
    SELECT facility_id, month, outcome, sum(detainers) FROM detainer_cells
    WHERE month = ANY(months) GROUP BY facility_id, month, outcome;
END $$
"""


def upgrade() -> None:
    op.execute("DELETE FROM detainer_cells")
    op.drop_constraint("pk_detainer_cells", "detainer_cells", type_="primary")
    op.drop_column("detainer_cells", "rank_key")
    op.add_column(
        "detainer_cells",
        sa.Column(
            "rank",
            sa.Integer(),
            nullable=False,
            comment="The cell's place (1…n) in its group's rounding order, by a keyed hash.",
        ),
    )
    op.add_column(
        "detainer_cells",
        sa.Column(
            "alone",
            sa.Boolean(),
            nullable=False,
            comment="The only cell of its facility × month × outcome group.",
        ),
    )
    op.create_primary_key(
        "pk_detainer_cells", "detainer_cells", ["facility_id", "month", "outcome", "rank"]
    )
    op.execute(REFRESH_FUNCTION)
    op.execute(
        "SELECT detainer_publication_refresh(ARRAY(SELECT DISTINCT month FROM detainer_stats))"
    )


def downgrade() -> None:
    previous = _revision_0008()
    op.execute("DELETE FROM detainer_cells")
    op.drop_constraint("pk_detainer_cells", "detainer_cells", type_="primary")
    op.drop_column("detainer_cells", "alone")
    op.drop_column("detainer_cells", "rank")
    op.add_column(
        "detainer_cells",
        sa.Column(
            "rank_key",
            sa.Integer(),
            nullable=False,
            comment="Keyed hash: the cell's place in its group's rounding order.",
        ),
    )
    op.create_primary_key(
        "pk_detainer_cells",
        "detainer_cells",
        ["facility_id", "month", "outcome", "criminality", "citizenship"],
    )
    op.execute(previous.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"))
    op.execute(
        "SELECT detainer_publication_refresh(ARRAY(SELECT DISTINCT month FROM detainer_stats))"
    )


def _revision_0008() -> str:
    """Migration 0008's refresh function (the one this replaces), read from its file."""
    path = Path(__file__).with_name("20261129_0008_detainer_publication.py")
    spec = importlib.util.spec_from_file_location("revision_0008", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.REFRESH_FUNCTION)
