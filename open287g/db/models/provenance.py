"""Provenance: the files we loaded, each load run, every repaired or rejected value, and
the change sequence that sync clients follow."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.agreements import SNAPSHOT_KIND
from open287g.db.models.base import Base
from open287g.db.models.enums import ChangeOp, IssueAction, SnapshotKind


class SourceFile(Base):
    """A file exactly as received: its checksum is what every served number traces back to."""

    __tablename__ = "source_files"
    __table_args__ = (UniqueConstraint("dataset", "sha256"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dataset: Mapped[str] = mapped_column(Text, comment="ice-287g, detainers, policies, officials")
    name: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    snapshot_kind: Mapped[SnapshotKind | None] = mapped_column(SNAPSHOT_KIND)
    snapshot_date: Mapped[dt.date | None] = mapped_column(Date)
    is_demo: Mapped[bool] = mapped_column(Boolean, server_default="false")
    is_synthetic: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # A detainer release: the first and last detainer date of its rows (the period it
    # covers; a month it ends inside is partial).
    coverage_start: Mapped[dt.date | None] = mapped_column(Date)
    coverage_end: Mapped[dt.date | None] = mapped_column(Date)


class LoadRun(Base):
    """One successful load of one source file. A failed load rolls back and leaves no row;
    loading a file already loaded (same sha256) writes nothing at all."""

    __tablename__ = "load_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dataset: Mapped[str] = mapped_column(Text)
    source_file_id: Mapped[int] = mapped_column(
        ForeignKey("source_files.id", ondelete="RESTRICT"), index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    rows_read: Mapped[int] = mapped_column(Integer, server_default="0")
    inserted: Mapped[int] = mapped_column(Integer, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, server_default="0")
    unchanged: Mapped[int] = mapped_column(Integer, server_default="0")
    ended: Mapped[int] = mapped_column(Integer, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, server_default="0")
    repaired: Mapped[int] = mapped_column(Integer, server_default="0")
    software_version: Mapped[str] = mapped_column(Text)


class LoadIssue(Base):
    """A value a loader repaired or a row it rejected, with where it stood in the file."""

    __tablename__ = "load_issues"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    load_run_id: Mapped[int] = mapped_column(
        ForeignKey("load_runs.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(Text)
    action: Mapped[IssueAction] = mapped_column(Enum(IssueAction, name="issue_action"))
    reason: Mapped[str] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(
        Integer, server_default="1", comment="Rows this issue stands for (summaries of many)."
    )


class Change(Base):
    """The monotonic change sequence: one row each time a record is upserted or ended.

    `seq` is the sync token of `/v1/changes`; its maximum is the data version that keys
    caches and ETags.
    """

    __tablename__ = "changes"
    __table_args__ = (
        Index("ix_changes_entity_entity_id", "entity", "entity_id"),
        # The Atom feed reads the latest summarized changes.
        Index("ix_changes_summarized", "seq", postgresql_where=text("summary IS NOT NULL")),
        # Every answer's Last-Modified is max(changed_at) (read in the answer's statement).
        Index("ix_changes_changed_at", "changed_at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[int] = mapped_column(BigInteger)
    op: Mapped[ChangeOp] = mapped_column(Enum(ChangeOp, name="change_op"))
    load_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("load_runs.id", ondelete="SET NULL"),
        index=True,
        comment="The run that made the change; null for the schema's own reference data and "
        "after that run's dataset was removed (the history stays for mirrors).",
    )
    changed_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    summary: Mapped[str | None] = mapped_column(
        Text, comment="What changed, for people (the Atom feed); null when not worth telling."
    )
