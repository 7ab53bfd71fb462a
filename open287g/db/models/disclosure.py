"""What detainer statistics are published from (README "Disclosure control").

Both tables are derived from `detainer_stats` by triggers (migration 0008), never written by
application code: `DetainerTotal` holds exact counts without personal attributes,
`DetainerCell` the finest personal cells with their cell keys (the sum of their records'
random keys), from which every published personal cell's key is summed. The secret the
keys are drawn from is in `DisclosureKey` and never leaves the database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, Enum, ForeignKey, Integer, Text
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
            "their cell keys (derived; kept by triggers; never published unperturbed)."
        },
    )

    facility_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("detainer_facilities.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    outcome: Mapped[DetainerOutcome] = mapped_column(_OUTCOME, primary_key=True)
    criminality: Mapped[str] = mapped_column(Text, primary_key=True)
    citizenship: Mapped[str] = mapped_column(Text, primary_key=True)
    detainers: Mapped[int] = mapped_column(Integer)
    cell_key: Mapped[int] = mapped_column(
        BigInteger,
        comment="Cell key: the sum modulo 2^31 of the random keys of its records (never "
        "published).",
    )
