"""MOA re-reading and bounded indexing (#20): each document records the extractor version
that read it (`extractor_version`, null for documents read before versions were kept, so a
newer extractor reads them again) and when (`read_at`); a page's full-text vector covers
its first 50,000 characters, so a page of 150,000 distinct words no longer fails the load
("string is too long for tsvector": a tsvector is at most 1 MB).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _search(expression: str) -> None:
    op.drop_index("ix_document_pages_search", table_name="document_pages")
    op.drop_column("document_pages", "search")
    op.add_column(
        "document_pages",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(expression, persisted=True),
            nullable=False,
        ),
    )
    op.create_index(
        "ix_document_pages_search", "document_pages", ["search"], postgresql_using="gin"
    )


def upgrade() -> None:
    op.add_column(
        "documents",
        sa.Column(
            "extractor_version",
            sa.Integer(),
            nullable=True,
            comment="The extractor that read it (moas/extract.py EXTRACTOR_VERSION).",
        ),
    )
    op.add_column(
        "documents",
        sa.Column(
            "read_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When it was last read (first read or re-read).",
        ),
    )
    _search("to_tsvector('english', left(text, 50000))")


def downgrade() -> None:
    _search("to_tsvector('english', text)")
    op.drop_column("documents", "read_at")
    op.drop_column("documents", "extractor_version")
