"""Placement evidence on every agency (#21): how it was placed in its jurisdiction
(`placement_method`: OVERRIDE, AGENCY_NAME, COUNTY_CELL, TYPE or STATE_ONLY), the evidence
in words (`placement_evidence`) and where ICE's cells contradict each other
(`placement_conflict`), kept on each list row (`agreement_observations`) and on the agency
from its newest row, as its jurisdiction is. Until now this lived only in `load_issues`.

Stored rows are filled after the migration by the loader's placement rules, current
ones, over the cells each row kept (state, agency name, TYPE, COUNTY) and the overrides in
force (a pending `placements` refresh, `open287g/loaders/derived.py`); the jurisdiction
each row was placed in is not touched. Every agency is re-emitted in the change feed (its
REST record has new fields).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from open287g.db.migrations.derived import request_refresh

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("placement_method", "OVERRIDE, AGENCY_NAME, COUNTY_CELL, TYPE or STATE_ONLY"),
    ("placement_evidence", "the evidence that placed it, in words"),
    ("placement_conflict", "where ICE's cells about its place contradict each other"),
)


def upgrade() -> None:
    for table in ("agreement_observations", "agencies"):
        for name, comment in _COLUMNS:
            op.add_column(table, sa.Column(name, sa.Text(), nullable=True, comment=comment))
    request_refresh("placements", revision)
    op.execute(
        "INSERT INTO changes (entity, entity_id, op)"
        " SELECT 'agency', id, 'UPSERT' FROM agencies ORDER BY id"
    )


def downgrade() -> None:
    for table in ("agencies", "agreement_observations"):
        for name, _ in reversed(_COLUMNS):
            op.drop_column(table, name)
