"""Agencies, their 287(g) agreements, and what each ICE snapshot said about them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CHAR,
    BigInteger,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base
from open287g.db.models.enums import AgencyType, AgreementStatus, ProgramModelCode, SnapshotKind
from open287g.db.models.reference import PROGRAM_MODEL_CODE

AGENCY_TYPE = Enum(AgencyType, name="agency_type")
AGREEMENT_STATUS = Enum(AgreementStatus, name="agreement_status")
SNAPSHOT_KIND = Enum(SnapshotKind, name="snapshot_kind")


class Placed:
    """How a list row's agency was placed in its jurisdiction (#21; `PlacementMethod`):
    kept on every list row and on the agency, from its newest row."""

    placement_method: Mapped[str | None] = mapped_column(
        Text, comment="OVERRIDE, AGENCY_NAME, COUNTY_CELL, TYPE or STATE_ONLY"
    )
    placement_evidence: Mapped[str | None] = mapped_column(
        Text, comment="the evidence that placed it, in words"
    )
    placement_conflict: Mapped[str | None] = mapped_column(
        Text, comment="where ICE's cells about its place contradict each other"
    )


class Agency(Placed, Base):
    """A law-enforcement agency, identified by (state, folded name)."""

    __tablename__ = "agencies"
    __table_args__ = (
        UniqueConstraint("state_code", "name_key"),
        Index("ix_agencies_state_code_id", "state_code", "id"),
        Index(
            "ix_agencies_name_fold",
            "name_fold",
            postgresql_using="gin",
            postgresql_ops={"name_fold": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state_code: Mapped[str] = mapped_column(CHAR(2))
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    name_fold: Mapped[str | None] = mapped_column(
        Text,
        Computed("search_fold(name)", persisted=True),
        comment="The name as searches fold it (db/queries/search.py); kept by PostgreSQL.",
    )
    type: Mapped[AgencyType] = mapped_column(AGENCY_TYPE)
    county: Mapped[str | None] = mapped_column(Text)
    jurisdiction_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="RESTRICT"), index=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Agreement(Base):
    """One agency under one program model: the unit ICE's lists are made of.

    Current fields (status, signedOn, moaUrl, seen dates) are derived from the snapshot
    history in `agreement_observations`, so loading snapshots in any order gives one answer.
    """

    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("agency_id", "model_code"),
        Index("ix_agreements_status_id", "status", "id"),
        Index("ix_agreements_state_code_id", "state_code", "id"),
        Index("ix_agreements_model_code_id", "model_code", "id"),
        Index("ix_agreements_signed_on_id", "signed_on", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    state_code: Mapped[str] = mapped_column(CHAR(2))
    model_code: Mapped[ProgramModelCode] = mapped_column(
        PROGRAM_MODEL_CODE, ForeignKey("program_models.code")
    )
    status: Mapped[AgreementStatus] = mapped_column(AGREEMENT_STATUS)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    signed_raw: Mapped[str | None] = mapped_column(Text)
    moa_url: Mapped[str | None] = mapped_column(Text)
    addendum_urls: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    first_seen: Mapped[dt.date] = mapped_column(Date)
    last_seen: Mapped[dt.date] = mapped_column(Date)
    activated_on: Mapped[dt.date | None] = mapped_column(
        Date, comment="Date of the first participating list that carried it."
    )
    left_on: Mapped[dt.date | None] = mapped_column(
        Date,
        comment="Date of the first list (of the kind that last carried it) on which it was "
        "absent; null while listed.",
    )
    # A read model, kept by the loads (db/ingest/lineage.py refresh_lineage_first_seen).
    lineage_first_seen: Mapped[dt.date] = mapped_column(
        Date,
        comment="The first list naming it or any predecessor (model switches not "
        "followed); kept by the loads.",
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class AgreementRow(Base):
    """An agreement's REST row as /v1 shows it, rendered when data loads (a read model:
    `db/rows.py` render_rows_sql, run by the loads that can change it), so a page of
    agreements reads stored JSON instead of building it."""

    __tablename__ = "agreement_rows"

    id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    shape: Mapped[str] = mapped_column(
        Text, comment="which rendering statement wrote it (a page reads only its own)"
    )
    body: Mapped[str] = mapped_column(Text, comment="the REST row's JSON text")


class Snapshot(Base):
    """One published ICE list (participating or pending) as loaded from one source file."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_kind_published_at", "kind", "published_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[SnapshotKind] = mapped_column(SNAPSHOT_KIND)
    published_on: Mapped[dt.date] = mapped_column(Date)
    published_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), comment="Publication date, noon for ICE's 'pm' files."
    )
    source_file_id: Mapped[int] = mapped_column(
        ForeignKey("source_files.id", ondelete="RESTRICT"), unique=True
    )
    load_run_id: Mapped[int] = mapped_column(ForeignKey("load_runs.id", ondelete="RESTRICT"))
    row_count: Mapped[int] = mapped_column(Integer)


class AgreementObservation(Placed, Base):
    """What one snapshot said about one agreement: the history behind `asOf` queries."""

    __tablename__ = "agreement_observations"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    row_number: Mapped[int] = mapped_column(Integer)
    agency_name: Mapped[str] = mapped_column(Text)
    agency_type: Mapped[AgencyType] = mapped_column(AGENCY_TYPE)
    county: Mapped[str | None] = mapped_column(Text)
    jurisdiction_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="RESTRICT")
    )
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    signed_raw: Mapped[str | None] = mapped_column(Text)
    moa_url: Mapped[str | None] = mapped_column(Text)
    addendum_urls: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
