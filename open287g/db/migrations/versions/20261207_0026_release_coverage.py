"""The dates a detainer release covers (review B): `source_files.coverage_start` and
`coverage_end`, the first and last `detainer_prepare_date` of its rows, so the pages and
the APIs can name the period and flag a partial first or last month (a release whose rows
stop on 14 October holds only half of October; shown as a whole month it reads as a drop).

Releases loaded before this revision get their months' bounds (first day of the first
month, last day of the last); their partial months are unknown until reloaded.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for column in ("coverage_start", "coverage_end"):
        op.add_column("source_files", sa.Column(column, sa.Date(), nullable=True))
    op.execute(
        "UPDATE source_files f SET coverage_start = m.first,"
        " coverage_end = (m.last + interval '1 month' - interval '1 day')::date"
        " FROM (SELECT source_file_id, min(month) AS first, max(month) AS last"
        "       FROM detainer_stats GROUP BY source_file_id) m"
        " WHERE m.source_file_id = f.id AND f.dataset = 'detainers'"
    )


def downgrade() -> None:
    op.drop_column("source_files", "coverage_end")
    op.drop_column("source_files", "coverage_start")
