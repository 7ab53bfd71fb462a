"""The agreement's life, explicit (#21): `agreement_status` gains `WITHDRAWN` (a pending
application that left without becoming active; `ENDED` is now only an active agreement
that left) and `SWITCHED` (the agency went on under another program model);
`agreements.left_on` is the first list on which it was absent; `agreement_links` say what
kind of continuation each is (`RENAME`, `RELISTING`, `SWITCH`, `STATE`) and the gap.
Every agreement is re-emitted in the change feed (its record has new fields); lineage and
statuses are recomputed after the migration by the current code (a pending `lineage`
refresh, `open287g/loaders/derived.py`).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from open287g.db.migrations.derived import request_refresh

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new enum value cannot be used in the transaction that adds it.
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE agreement_status ADD VALUE IF NOT EXISTS 'WITHDRAWN'")
        op.execute("ALTER TYPE agreement_status ADD VALUE IF NOT EXISTS 'SWITCHED'")
    op.add_column(
        "agreements",
        sa.Column(
            "left_on",
            sa.Date(),
            nullable=True,
            comment="Date of the first list (of the kind that last carried it) on which it "
            "was absent; null while listed.",
        ),
    )
    op.add_column(
        "agreement_links",
        sa.Column(
            "kind",
            sa.Text(),
            server_default="RENAME",
            nullable=False,
            comment="RENAME, RELISTING (after a gap of more than 14 days), SWITCH (another "
            "program model) or STATE (another state, with MOA URL or signing-date evidence)",
        ),
    )
    op.add_column(
        "agreement_links",
        sa.Column(
            "gap_days",
            sa.Integer(),
            nullable=True,
            comment="days from the predecessor's last list to the successor's next one",
        ),
    )
    request_refresh("lineage", revision)
    op.execute(
        "INSERT INTO changes (entity, entity_id, op)"
        " SELECT 'agreement', id, 'UPSERT' FROM agreements ORDER BY id"
    )


def downgrade() -> None:
    op.execute("UPDATE agreements SET status = 'ENDED' WHERE CAST(status AS text) IN ('WITHDRAWN')")
    op.execute("UPDATE agreements SET status = 'RENAMED' WHERE CAST(status AS text) = 'SWITCHED'")
    op.drop_column("agreement_links", "gap_days")
    op.drop_column("agreement_links", "kind")
    op.drop_column("agreements", "left_on")
