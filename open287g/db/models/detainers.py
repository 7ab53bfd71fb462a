"""Detainer statistics: aggregates only. No person-level row or identifier is ever stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CHAR,
    BigInteger,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base, ReviewedRow
from open287g.db.models.enums import DetainerOutcome


class DetainerFacility(Base):
    """A jail or facility named in detainer releases, matched to a jurisdiction and agency
    where a conservative rule allows (`match_method` says which rule, or none)."""

    __tablename__ = "detainer_facilities"
    __table_args__ = (UniqueConstraint("state_code", "name_key", "code"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, server_default="")
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(Text)
    state_code: Mapped[str | None] = mapped_column(CHAR(2))
    county_key: Mapped[str | None] = mapped_column(
        Text, comment="County named by the facility (HARRIS COUNTY JAIL → HARRIS), for matching."
    )
    jurisdiction_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="SET NULL"), index=True
    )
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id", ondelete="SET NULL"), index=True
    )
    match_method: Mapped[str | None] = mapped_column(Text)
    county_fips: Mapped[str | None] = mapped_column(
        Text, comment="Five-digit FIPS code of the county the facility is in."
    )
    placement_method: Mapped[str | None] = mapped_column(
        Text,
        comment="How the county was found: facility-name:<gazetteer method> or "
        "facility-city (the city through the gazetteer).",
    )
    placement_score: Mapped[float | None] = mapped_column(
        Float, comment="Score (0-100) of the county match."
    )
    agency_method: Mapped[str | None] = mapped_column(
        Text,
        comment="How the agency running the jail was found: county-sheriff (the one "
        "sheriff's office of the county).",
    )
    agency_score: Mapped[float | None] = mapped_column(
        Float, comment="Score (0-100) of the agency link."
    )


class DetainerStat(Base):
    """Count of detainers in one cell of month × facility × outcome × criminality ×
    citizenship × charge category, from one release."""

    __tablename__ = "detainer_stats"
    __table_args__ = (
        Index("ix_detainer_stats_release_month", "source_file_id", "month"),
        Index("ix_detainer_stats_facility_month", "facility_id", "month"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    source_file_id: Mapped[int] = mapped_column(ForeignKey("source_files.id", ondelete="RESTRICT"))
    load_run_id: Mapped[int] = mapped_column(ForeignKey("load_runs.id", ondelete="RESTRICT"))
    month: Mapped[dt.date] = mapped_column(Date)
    facility_id: Mapped[int] = mapped_column(
        ForeignKey("detainer_facilities.id", ondelete="RESTRICT")
    )
    outcome: Mapped[DetainerOutcome] = mapped_column(Enum(DetainerOutcome, name="detainer_outcome"))
    criminality: Mapped[str] = mapped_column(Text)
    citizenship: Mapped[str] = mapped_column(Text)
    charge_category: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)


class FacilityOverride(ReviewedRow, Base):
    """One reviewed row of the facility-overrides CSV: a facility's county and/or the
    agency running it, replacing what placement found (README "Detainers")."""

    __tablename__ = "facility_overrides"

    code: Mapped[str] = mapped_column(Text, comment="detention_facility_code")
    county_fips: Mapped[str | None] = mapped_column(Text)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    note: Mapped[str | None] = mapped_column(Text)
