"""Derived data a migration asked to be recomputed by the current code (see
`open287g/loaders/derived.py`): one row per pending refresh, deleted when performed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base


class DerivedRefresh(Base):
    """A pending recomputation of derived data (lineage, placements, county matches)."""

    __tablename__ = "derived_refreshes"

    name: Mapped[str] = mapped_column(
        Text, primary_key=True, comment="the refresh (counties, lineage, placements)"
    )
    requested_by: Mapped[str] = mapped_column(Text, comment="the migration that asked for it")
    requested_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
