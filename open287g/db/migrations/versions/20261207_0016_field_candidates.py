"""Extracted values below the publication threshold are candidates (#20): shown with a
flag, never published as a fact nor as an agency's official; each value also keeps the
box it was read from (x0, y0, x1, y1 in PDF points, origin top left).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "document_fields",
        sa.Column(
            "candidate",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
            comment="Below the publication threshold: shown as a candidate, never a fact.",
        ),
    )
    op.add_column(
        "document_fields",
        sa.Column(
            "box",
            postgresql.ARRAY(sa.Float()),
            comment="Where the value was read: x0, y0, x1, y1 in PDF points, origin top left.",
        ),
    )


def downgrade() -> None:
    op.drop_column("document_fields", "box")
    op.drop_column("document_fields", "candidate")
