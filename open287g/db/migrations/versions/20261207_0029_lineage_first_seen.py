"""The read model of a lineage's first sight (#25): `agreements.lineage_first_seen`, the
first list naming the agreement or any of its predecessors (a model switch starts a new
lineage), stored when data loads instead of walked recursively on every page that shows
it. Loads keep it current in their transaction (`db/ingest/lineage.py`,
`refresh_lineage_first_seen`, run by `recompute_agreements`); this fills it for the
agreements already loaded, with the rule carried here (the same walk).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILL = """
WITH RECURSIVE chain(id, ancestor) AS (
    SELECT id, id FROM agreements
    UNION
    SELECT c.id, l.predecessor_id FROM chain c
    JOIN agreement_links l ON l.successor_id = c.ancestor AND l.kind <> 'SWITCH'
), walked AS (
    SELECT c.id, min(g.first_seen) AS first_seen
    FROM chain c JOIN agreements g ON g.id = c.ancestor GROUP BY c.id
)
UPDATE agreements g SET lineage_first_seen = w.first_seen FROM walked w WHERE g.id = w.id
"""


def upgrade() -> None:
    op.add_column(
        "agreements",
        sa.Column(
            "lineage_first_seen",
            sa.Date(),
            nullable=True,
            comment="The first list naming it or any predecessor (model switches not "
            "followed); kept by the loads.",
        ),
    )
    op.execute(FILL)
    op.alter_column("agreements", "lineage_first_seen", nullable=False)


def downgrade() -> None:
    op.drop_column("agreements", "lineage_first_seen")
