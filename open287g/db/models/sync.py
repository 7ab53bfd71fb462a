"""What `open287g sync` remembers between passes: ICE's page (its validators, the links
it last listed, how the last checks went) and every file it downloaded, by sha256, with
whether it was loaded or quarantined and why (README "Keeping current: open287g sync")."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Integer, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base


class SyncState(Base):
    """One row: the sync's view of ICE's 287(g) page."""

    __tablename__ = "sync_state"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, server_default="1")
    page_url: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text, comment="ETag of the page's last 200")
    last_modified: Mapped[str | None] = mapped_column(Text, comment="Last-Modified, verbatim")
    links: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, server_default="[]", comment="list links the page last named (url, kind, text)"
    )
    last_check_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed_checks: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="failed passes since the last good one"
    )
    last_error: Mapped[str | None] = mapped_column(Text)


class SyncFile(Base):
    """A file the sync downloaded, kept in the archive under its sha256 before loading."""

    __tablename__ = "sync_files"
    __table_args__ = (
        CheckConstraint("status IN ('loaded', 'quarantined')", name="status"),
        CheckConstraint(
            "date_source IS NULL OR date_source IN ('file-name', 'last-modified')",
            name="date_source",
        ),
    )

    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    url: Mapped[str] = mapped_column(Text, comment="where it was first downloaded from")
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(Text, comment="PARTICIPATING or PENDING")
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    date_source: Mapped[str | None] = mapped_column(Text, comment="file-name or last-modified")
    bytes: Mapped[int] = mapped_column(BigInteger)
    archive_path: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text), comment="list columns the file's header names (loaded files)"
    )
    status: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text, comment="why it was quarantined")
    downloaded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class SyncLink(Base):
    """What a list URL last answered, for conditional requests: nothing is downloaded twice."""

    __tablename__ = "sync_links"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    sha256: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
