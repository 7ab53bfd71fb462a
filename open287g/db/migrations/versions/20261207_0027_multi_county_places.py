"""A place over several counties lies in its state (review C): New York City was stored
inside New York County (Manhattan), so its page said "In New York County" and it took
that county's policy when it had none of its own. The policy loader now parents such a
place to its state; this moves the places stored before (the gazetteer's places with more
than one county wholly inside them) and re-emits them in the change feed (their
`parent_id` changed).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from open287g.db.gazetteer import places_whole_counties

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOVE = """
WITH moved AS (
    UPDATE jurisdictions p SET parent_id = s.id
    FROM jurisdictions s
    WHERE p.kind = 'PLACE' AND p.state_code = :state AND p.name = :name
      AND s.kind = 'STATE' AND s.state_code = p.state_code
      AND p.parent_id IS DISTINCT FROM s.id
    RETURNING p.id
)
INSERT INTO changes (entity, entity_id, op)
SELECT 'jurisdiction', id, 'UPSERT' FROM moved ORDER BY id
"""


def upgrade() -> None:
    bind = op.get_bind()
    for (state, name), counties in sorted(places_whole_counties().items()):
        if len(counties) > 1:
            bind.execute(sa.text(_MOVE), {"state": state, "name": name})


def downgrade() -> None:
    pass  # the old parent (one of its counties) was wrong; nothing to restore
