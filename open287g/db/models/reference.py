"""Reference data: the four program models and the jurisdictions agencies belong to."""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base
from open287g.db.models.enums import JurisdictionKind, ProgramModelCode

PROGRAM_MODEL_CODE = Enum(ProgramModelCode, name="program_model_code")
JURISDICTION_KIND = Enum(JurisdictionKind, name="jurisdiction_kind")


class ProgramModel(Base):
    __tablename__ = "program_models"

    code: Mapped[ProgramModelCode] = mapped_column(PROGRAM_MODEL_CODE, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    sort_order: Mapped[int]


class Jurisdiction(Base):
    """A state, county, city or tribe. `name_key` is the folded name used for matching."""

    __tablename__ = "jurisdictions"
    __table_args__ = (
        UniqueConstraint("kind", "state_code", "name_key"),
        Index("ix_jurisdictions_state_code_kind", "state_code", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[JurisdictionKind] = mapped_column(JURISDICTION_KIND)
    name: Mapped[str] = mapped_column(Text)
    name_key: Mapped[str] = mapped_column(Text)
    state_code: Mapped[str] = mapped_column(CHAR(2))
    fips: Mapped[str | None] = mapped_column(
        String(7), comment="County: 5-digit FIPS; place: 7-digit Census place code."
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("jurisdictions.id", ondelete="RESTRICT"), index=True
    )


class PlacementOverride(Base):
    """A reviewed placement of an agency (README "Places"): ICE's cells are wrong and the
    right county is known. Rows without a load run came with the schema (migration 0019);
    `open287g load placement-overrides` replaces the loaded ones."""

    __tablename__ = "placement_overrides"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    load_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("load_runs.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int | None] = mapped_column(Integer)
    state_code: Mapped[str] = mapped_column(CHAR(2))
    agency_key: Mapped[str] = mapped_column(Text, comment="the agency's folded name")
    agency_name: Mapped[str] = mapped_column(Text)
    county_fips: Mapped[list[str]] = mapped_column(
        ARRAY(Text), comment="the counties it serves, the first its own"
    )
    place: Mapped[str | None] = mapped_column(Text, comment="the place inside the first county")
    note: Mapped[str | None] = mapped_column(Text, comment="why: the evidence")
