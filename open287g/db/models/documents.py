"""MOA documents: the PDF once per sha256, the text of every page (searchable), the
agreements it is the MOA of, and the facts extracted from it with their evidence."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base
from open287g.db.models.enums import ProgramModelCode
from open287g.db.models.reference import PROGRAM_MODEL_CODE

# A page's full-text vector covers its first INDEXED_PAGE_CHARS characters (the stored text
# is whole). A tsvector holds at most 1 MB: 150,000 distinct words on one page exceed it;
# 50,000 characters stay under it whatever they are (README "Searching MOA text").
INDEXED_PAGE_CHARS = 50_000


class Document(Base):
    """One MOA PDF, identified by its bytes: several agreements may link the same file."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sha256: Mapped[str] = mapped_column(Text, unique=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int | None] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(Text, index=True)
    url: Mapped[str | None] = mapped_column(Text, comment="Where ICE published it, if known.")
    fetched_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), comment="When these bytes were fetched (or archived)."
    )
    status: Mapped[str] = mapped_column(Text, comment="read, partial or unreadable")
    reason: Mapped[str | None] = mapped_column(Text, comment="Why (part of) it was not read.")
    text_method: Mapped[str] = mapped_column(Text, comment="text-layer, ocr, mixed or none")
    signed_on: Mapped[dt.date | None] = mapped_column(Date, comment="Extracted signing date.")
    program_model: Mapped[ProgramModelCode | None] = mapped_column(PROGRAM_MODEL_CODE)
    extraction: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    source_file_id: Mapped[int] = mapped_column(
        ForeignKey("source_files.id", ondelete="RESTRICT"), index=True
    )
    load_run_id: Mapped[int] = mapped_column(
        ForeignKey("load_runs.id", ondelete="RESTRICT"), index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    extractor_version: Mapped[int | None] = mapped_column(
        Integer, comment="The extractor that read it (moas/extract.py EXTRACTOR_VERSION)."
    )
    read_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), comment="When it was last read (first read or re-read)."
    )


class DocumentPage(Base):
    """The text of one page and how it was obtained; `search` is its full-text vector."""

    __tablename__ = "document_pages"
    __table_args__ = (Index("ix_document_pages_search", "search", postgresql_using="gin"),)

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    page_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    method: Mapped[str] = mapped_column(Text, comment="text-layer, ocr or none")
    engine: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float, comment="OCR mean word confidence")
    reason: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(f"to_tsvector('english', left(text, {INDEXED_PAGE_CHARS}))", persisted=True),
    )


class DocumentAgreement(Base):
    """An agreement whose MOA link (current or in a past list) names this document's file."""

    __tablename__ = "document_agreements"

    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    is_current: Mapped[bool] = mapped_column(
        comment="The agreement's current moaUrl names it (else an earlier list did)."
    )


class DocumentField(Base):
    """One extracted value with its evidence; null `value` with the `reason` when it failed
    a check; `candidate` when its confidence is below the publication threshold."""

    __tablename__ = "document_fields"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    ordinal: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text, comment="The text the value was read from.")
    candidate: Mapped[bool] = mapped_column(
        Boolean,
        server_default="false",
        comment="Below the publication threshold: shown as a candidate, never a fact.",
    )
    box: Mapped[list[float] | None] = mapped_column(
        ARRAY(Float),
        comment="Where the value was read: x0, y0, x1, y1 in PDF points, origin top left.",
    )
