"""Renames are not terminations: `agreement_status` gains `RENAMED`; `agreement_links`
records which agreement continues which (and why), `lineage_overrides` the reviewed CSV
that forces or forbids links. Lineage is computed for what is already loaded by 0021
(which re-derives every status), and after every ICE load.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new enum value cannot be used in the transaction that adds it.
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE agreement_status ADD VALUE IF NOT EXISTS 'RENAMED'")
    op.create_table(
        "agreement_links",
        sa.Column("predecessor_id", sa.BigInteger(), nullable=False),
        sa.Column("successor_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "method",
            sa.Text(),
            nullable=False,
            comment="moa-url, name-similarity or override: why the link was made",
        ),
        sa.Column(
            "score",
            sa.Float(),
            nullable=True,
            comment="rapidfuzz similarity (0-100) of the folded agency names",
        ),
        sa.Column(
            "evidence", sa.Text(), nullable=False, comment="the shared MOA URL, names compared…"
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_links_predecessor_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_links_successor_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("predecessor_id", name=op.f("pk_agreement_links")),
        sa.UniqueConstraint("successor_id", name=op.f("uq_agreement_links_successor_id")),
    )
    op.create_table(
        "lineage_overrides",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False, comment="link or unlink"),
        sa.Column("predecessor_id", sa.BigInteger(), nullable=False),
        sa.Column("successor_id", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_lineage_overrides_load_run_id_load_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["predecessor_id"],
            ["agreements.id"],
            name=op.f("fk_lineage_overrides_predecessor_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["successor_id"],
            ["agreements.id"],
            name=op.f("fk_lineage_overrides_successor_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_overrides")),
    )
    op.create_index(op.f("ix_lineage_overrides_load_run_id"), "lineage_overrides", ["load_run_id"])
    # The links themselves are computed by 0021 (agreement lifecycle), whose matcher needs
    # columns this revision does not have yet; today's code cannot run against this schema.


def downgrade() -> None:
    op.execute("UPDATE agreements SET status = 'ENDED' WHERE status = 'RENAMED'")
    op.drop_index(op.f("ix_lineage_overrides_load_run_id"), table_name="lineage_overrides")
    op.drop_table("lineage_overrides")
    op.drop_table("agreement_links")
