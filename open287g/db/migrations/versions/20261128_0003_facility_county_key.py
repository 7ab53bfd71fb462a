"""Detainer facilities remember the county their name gives, so matching can be re-run;
a load issue can stand for many rows (detainer loads report a count per reason).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "detainer_facilities",
        sa.Column(
            "county_key",
            sa.Text(),
            nullable=True,
            comment="County named by the facility (HARRIS COUNTY JAIL → HARRIS), for matching.",
        ),
    )

    op.add_column(
        "load_issues",
        sa.Column(
            "rows",
            sa.Integer(),
            server_default="1",
            nullable=False,
            comment="Rows this issue stands for (summaries of many).",
        ),
    )


def downgrade() -> None:
    op.drop_column("load_issues", "rows")
    op.drop_column("detainer_facilities", "county_key")
