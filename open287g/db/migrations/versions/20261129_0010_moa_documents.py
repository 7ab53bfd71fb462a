"""MOA documents: documents (once per sha256), their pages with a full-text index, the
agreements they belong to, extracted fields with evidence; officials read from documents.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MODEL = postgresql.ENUM(name="program_model_code", create_type=False)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True, comment="Where ICE published it, if known."),
        sa.Column(
            "fetched_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="When these bytes were fetched (or archived).",
        ),
        sa.Column("status", sa.Text(), nullable=False, comment="read, partial or unreadable"),
        sa.Column("reason", sa.Text(), nullable=True, comment="Why (part of) it was not read."),
        sa.Column(
            "text_method", sa.Text(), nullable=False, comment="text-layer, ocr, mixed or none"
        ),
        sa.Column("signed_on", sa.Date(), nullable=True, comment="Extracted signing date."),
        sa.Column("program_model", _MODEL, nullable=True),
        sa.Column(
            "extraction",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["source_files.id"],
            name=op.f("fk_documents_source_file_id_source_files"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_documents_load_run_id_load_runs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("sha256", name=op.f("uq_documents_sha256")),
    )
    op.create_index(op.f("ix_documents_file_name"), "documents", ["file_name"])
    op.create_index(op.f("ix_documents_source_file_id"), "documents", ["source_file_id"])
    op.create_index(op.f("ix_documents_load_run_id"), "documents", ["load_run_id"])
    op.create_table(
        "document_pages",
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False, comment="text-layer, ocr or none"),
        sa.Column("engine", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True, comment="OCR mean word confidence"),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english', text)", persisted=True),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_pages_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "page_number", name=op.f("pk_document_pages")),
    )
    op.create_index(
        "ix_document_pages_search", "document_pages", ["search"], postgresql_using="gin"
    )
    op.create_table(
        "document_agreements",
        sa.Column("agreement_id", sa.BigInteger(), nullable=False),
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "is_current",
            sa.Boolean(),
            nullable=False,
            comment="The agreement's current moaUrl names it (else an earlier list did).",
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_document_agreements_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_agreements_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "document_id", name=op.f("pk_document_agreements")),
    )
    op.create_index(
        op.f("ix_document_agreements_document_id"), "document_agreements", ["document_id"]
    )
    op.create_table(
        "document_fields",
        sa.Column("document_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("ordinal", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True, comment="The text the value was read from."),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_fields_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "field", "ordinal", name=op.f("pk_document_fields")),
    )
    op.add_column(
        "officials",
        sa.Column(
            "document_id",
            sa.BigInteger(),
            nullable=True,
            comment="Set when the official is a signatory read from an MOA (else: officials CSV).",
        ),
    )
    op.add_column("officials", sa.Column("source_page", sa.Integer(), nullable=True))
    op.add_column(
        "officials",
        sa.Column(
            "evidence_on",
            sa.Date(),
            nullable=True,
            comment="The date the source shows them in office (an MOA's signing date).",
        ),
    )
    op.create_foreign_key(
        op.f("fk_officials_document_id_documents"),
        "officials",
        "documents",
        ["document_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_officials_document_id"), "officials", ["document_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_officials_document_id"), table_name="officials")
    op.drop_constraint(op.f("fk_officials_document_id_documents"), "officials", type_="foreignkey")
    op.drop_column("officials", "evidence_on")
    op.drop_column("officials", "source_page")
    op.drop_column("officials", "document_id")
    op.drop_table("document_fields")
    op.drop_index(op.f("ix_document_agreements_document_id"), table_name="document_agreements")
    op.drop_table("document_agreements")
    op.drop_index("ix_document_pages_search", table_name="document_pages")
    op.drop_table("document_pages")
    op.drop_index(op.f("ix_documents_load_run_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_source_file_id"), table_name="documents")
    op.drop_index(op.f("ix_documents_file_name"), table_name="documents")
    op.drop_table("documents")
