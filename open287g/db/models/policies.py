"""Jurisdiction policies (dated, cited claims) and the officials in charge of agencies."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base
from open287g.db.models.enums import PolicyBasis, PolicyStatus


class Policy(Base):
    """One source's assertion about a jurisdiction (README "Policies"): every assertion is
    kept side by side; the status in force is derived (`db/queries/policy_rule.py`)."""

    __tablename__ = "policies"
    __table_args__ = (
        Index("ix_policies_jurisdiction_id_effective_date", "jurisdiction_id", "effective_date"),
        UniqueConstraint("jurisdiction_id", "source_key", "policy_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="RESTRICT")
    )
    policy_key: Mapped[str] = mapped_column(
        Text, comment="Folded policy name | effective date | source URL: one claim's identity."
    )
    status: Mapped[PolicyStatus] = mapped_column(Enum(PolicyStatus, name="policy_status"))
    declared_sanctuary: Mapped[bool | None] = mapped_column(
        Boolean, comment="The jurisdiction's own declaration; null when the source says nothing."
    )
    policy_name: Mapped[str | None] = mapped_column(Text)
    effective_date: Mapped[dt.date | None] = mapped_column(Date)
    source_title: Mapped[str | None] = mapped_column(Text)
    source_url: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str] = mapped_column(
        Text, server_default="", comment="The source title folded: one source's identity."
    )
    source_date: Mapped[dt.date | None] = mapped_column(
        Date, comment="When the source said it (its publication), not when the policy began."
    )
    basis: Mapped[PolicyBasis] = mapped_column(Enum(PolicyBasis, name="policy_basis"))
    load_run_id: Mapped[int] = mapped_column(
        ForeignKey("load_runs.id", ondelete="RESTRICT"), index=True
    )


class Official(Base):
    """The official in charge of an agency (a sheriff, a chief) for a term."""

    __tablename__ = "officials"
    __table_args__ = (UniqueConstraint("agency_id", "official_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(Text)
    official_key: Mapped[str] = mapped_column(
        Text, comment="Folded name | term start: one person's one term at one agency."
    )
    title: Mapped[str | None] = mapped_column(Text)
    term_start: Mapped[dt.date | None] = mapped_column(Date)
    term_end: Mapped[dt.date | None] = mapped_column(Date)
    source_url: Mapped[str | None] = mapped_column(Text)
    load_run_id: Mapped[int] = mapped_column(
        ForeignKey("load_runs.id", ondelete="RESTRICT"), index=True
    )
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"),
        index=True,
        comment="Set when the official is a signatory read from an MOA (else: officials CSV).",
    )
    source_page: Mapped[int | None] = mapped_column(Integer)
    evidence_on: Mapped[dt.date | None] = mapped_column(
        Date, comment="The date the source shows them in office (an MOA's signing date)."
    )
