"""Policies get an identity (jurisdiction, policy key) so re-loading a CSV updates claims.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "policies",
        sa.Column(
            "policy_key",
            sa.Text(),
            nullable=False,
            comment="Folded policy name | effective date | source URL: one claim's identity.",
        ),
    )
    op.create_unique_constraint(
        op.f("uq_policies_jurisdiction_id_policy_key"),
        "policies",
        ["jurisdiction_id", "policy_key"],
    )


def downgrade() -> None:
    op.drop_constraint(op.f("uq_policies_jurisdiction_id_policy_key"), "policies", type_="unique")
    op.drop_column("policies", "policy_key")
