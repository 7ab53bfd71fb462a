"""Index `changes.changed_at`: the data version every answer reads (in the same statement
as its data) includes max(changed_at) for Last-Modified, which without an index scanned
the whole change history on every uncached request.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_changes_changed_at", "changes", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_changes_changed_at", table_name="changes")
