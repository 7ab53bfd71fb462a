"""Officials get an identity (agency, folded name + term start) so re-loads update in place.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 03:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "officials",
        sa.Column(
            "official_key",
            sa.Text(),
            nullable=False,
            comment="Folded name | term start: one person's one term at one agency.",
        ),
    )
    op.create_unique_constraint(
        op.f("uq_officials_agency_id_official_key"), "officials", ["agency_id", "official_key"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_officials_agency_id_official_key"), "officials", type_="unique")
    op.drop_column("officials", "official_key")
