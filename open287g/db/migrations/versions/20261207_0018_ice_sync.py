"""`open287g sync` (#23): ICE's page as last read (validators, links, how the checks went),
every downloaded list file by sha256 (loaded or quarantined, and why), and what each list
URL last answered (for conditional requests).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), server_default="1", nullable=False),
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True, comment="ETag of the page's last 200"),
        sa.Column("last_modified", sa.Text(), nullable=True, comment="Last-Modified, verbatim"),
        sa.Column(
            "links",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="[]",
            nullable=False,
            comment="list links the page last named (url, kind, text)",
        ),
        sa.Column("last_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "failed_checks",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="failed passes since the last good one",
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_sync_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "sync_files",
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False, comment="where it was first downloaded from"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=True, comment="PARTICIPATING or PENDING"),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("date_source", sa.Text(), nullable=True, comment="file-name or last-modified"),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("archive_path", sa.Text(), nullable=False),
        sa.Column(
            "columns",
            postgresql.ARRAY(sa.Text()),
            nullable=True,
            comment="list columns the file's header names (loaded files)",
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True, comment="why it was quarantined"),
        sa.Column(
            "downloaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('loaded', 'quarantined')", name=op.f("ck_sync_files_status")
        ),
        sa.CheckConstraint(
            "date_source IS NULL OR date_source IN ('file-name', 'last-modified')",
            name=op.f("ck_sync_files_date_source"),
        ),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_sync_files")),
    )
    op.create_table(
        "sync_links",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_sync_links")),
    )


def downgrade() -> None:
    op.drop_table("sync_links")
    op.drop_table("sync_files")
    op.drop_table("sync_state")
