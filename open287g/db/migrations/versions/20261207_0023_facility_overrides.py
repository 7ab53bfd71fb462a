"""Reviewed facility overrides (issue #22): a facility's county and/or the agency running
its jail, by facility code, replacing what placement found, like lineage overrides.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "facility_overrides",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False, comment="detention_facility_code"),
        sa.Column("county_fips", sa.Text(), nullable=True),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_facility_overrides_load_run_id_load_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_facility_overrides_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facility_overrides")),
    )
    op.create_index(
        op.f("ix_facility_overrides_load_run_id"), "facility_overrides", ["load_run_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_facility_overrides_load_run_id"), table_name="facility_overrides")
    op.drop_table("facility_overrides")
