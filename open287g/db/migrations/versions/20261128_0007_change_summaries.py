"""Changes say what changed, in words (`added to the participating list of 2025-07-11`,
`signed date 2025-05-01 → 2025-05-22`), so the Atom feed is a changelog people can read.
Null for changes no one needs told about (a new `lastSeen` alone).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMENT = "What changed, for people (the Atom feed); null when not worth telling."


def upgrade() -> None:
    op.add_column("changes", sa.Column("summary", sa.Text(), nullable=True, comment=COMMENT))
    op.create_index(
        "ix_changes_summarized",
        "changes",
        ["seq"],
        unique=False,
        postgresql_where=sa.text("summary IS NOT NULL"),
    )
    op.execute(
        "UPDATE changes c SET summary = 'loaded ' || f.name FROM source_files f"
        " WHERE c.entity = 'dataset' AND c.entity_id = f.id"
    )


def downgrade() -> None:
    op.drop_index("ix_changes_summarized", table_name="changes")
    op.drop_column("changes", "summary")
