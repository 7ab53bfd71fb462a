"""A file loaded from disk no longer publishes where it sat on the loading machine:
`source_files.url` keeps only real URLs (http, https); for file loads it is cleared and
the file name (`name`) is what identifies the file. Each rewritten dataset gets a change
so mirrors of `/v1/datasets` follow.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 09:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "WITH cleared AS ("
        " UPDATE source_files SET url = NULL"
        " WHERE url IS NOT NULL AND url !~* '^https?://' RETURNING id)"
        " INSERT INTO changes (entity, entity_id, op)"
        " SELECT 'dataset', id, 'UPSERT' FROM cleared ORDER BY id"
    )


def downgrade() -> None:
    """The paths are gone for good (that is the point); nothing to restore."""
