"""What detainer statistics are published from (README "Disclosure control").

Both tables are derived from `detainer_stats` by triggers (migration 0008), never written by
application code: `DetainerTotal` holds exact counts without personal attributes,
`DetainerCell` the finest personal cells with the keys their rounding uses. The key itself
is in `DisclosureKey` and never leaves the database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, Enum, Float, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base
from open287g.db.models.enums import DetainerOutcome

_OUTCOME = Enum(DetainerOutcome, name="detainer_outcome", create_type=False)


class DisclosureKey(Base):
    __tablename__ = "disclosure_keys"
    __table_args__ = ({"comment": "Secret keys of the disclosure control; never published."},)

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    secret: Mapped[str] = mapped_column(Text)


class DetainerTotal(Base):
    __tablename__ = "detainer_totals"
    __table_args__ = (
        {"comment": "Exact detainers per facility, month and outcome (derived; kept by triggers)."},
    )

    facility_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("detainer_facilities.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    outcome: Mapped[DetainerOutcome] = mapped_column(_OUTCOME, primary_key=True)
    detainers: Mapped[int] = mapped_column(Integer)


class DetainerCell(Base):
    __tablename__ = "detainer_cells"
    __table_args__ = (
        {
            "comment": "Detainers per facility, month, outcome and personal attributes, with "
            "the keys of their rounding (derived; kept by triggers; never published unrounded)."
        },
    )

    facility_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("detainer_facilities.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    outcome: Mapped[DetainerOutcome] = mapped_column(_OUTCOME, primary_key=True)
    rank: Mapped[int] = mapped_column(
        Integer,
        primary_key=True,
        comment="The cell's place (1…n) in its group's rounding order, by a keyed hash.",
    )
    criminality: Mapped[str] = mapped_column(Text)
    citizenship: Mapped[str] = mapped_column(Text)
    detainers: Mapped[int] = mapped_column(Integer)
    alone: Mapped[bool] = mapped_column(
        Boolean, comment="The only cell of its facility × month × outcome group."
    )
    group_offset: Mapped[float] = mapped_column(
        Float, comment="Keyed hash in [0, 1): where the group's systematic rounding starts."
    )
