"""Pending derived data refreshes (#25): migrations no longer import live code. One that
needs derived data recomputed (lineage and statuses, placements, county matches) records
its name in `derived_refreshes`, and `open287g db migrate` has the current code perform it
after Alembic (`open287g/loaders/derived.py`). The migrations that ask (0009, 0021, 0025)
make the table when they run; this makes it for databases already past them.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 19:00:00
"""

from collections.abc import Sequence

from alembic import op

from open287g.db.migrations.derived import create_table

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_table()


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS derived_refreshes")
