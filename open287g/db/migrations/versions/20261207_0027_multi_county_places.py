"""A place over several counties lies in its state (review C): New York City was stored
inside New York County (Manhattan), so its page said "In New York County" and it took
that county's policy when it had none of its own. The policy loader now parents such a
place to its state; this moves the places stored before (the gazetteer's places with more
than one county wholly inside them when it was written: New York City alone, carried
here) and re-emits them in the change feed (their
`parent_id` changed).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

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


# The gazetteer's places with more than one county wholly inside them (places.csv).
_MULTI_COUNTY_PLACES = (("NY", "New York City"),)


def upgrade() -> None:
    bind = op.get_bind()
    for state, name in _MULTI_COUNTY_PLACES:
        bind.execute(sa.text(_MOVE), {"state": state, "name": name})


def downgrade() -> None:
    pass  # the old parent (one of its counties) was wrong; nothing to restore
