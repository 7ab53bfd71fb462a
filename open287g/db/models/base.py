"""The declarative base shared by every model, with names Alembic can diff reliably."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ReviewedRow:
    """The columns a table of reviewed overrides starts with (`sort_order`: before the
    table's own): its id, the load run of the CSV it came in (deleted with it) and its
    line there."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, sort_order=-1)
    load_run_id: Mapped[int] = mapped_column(
        ForeignKey("load_runs.id", ondelete="CASCADE"), index=True, sort_order=-1
    )
    row_number: Mapped[int] = mapped_column(Integer, sort_order=-1)
