"""Agreement lineage: which agreement continues which when ICE renames an agency.

A rename is not a termination: the old agreement's status is `RENAMED` and it points at
its successor. A model switch (kind `SWITCH`) links two distinct agreements: the old one
ended (`ENDED`, or `WITHDRAWN` if it never became active) and names the new one as its
`switchedTo`; a switch is not part of the lineage that statistics count once. Links are
recomputed from the snapshot history after every ICE load (`db/ingest/lineage.py`); each
records its kind and why it was made. Reviewed overrides
(`open287g load lineage-overrides`) force or forbid a link.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from open287g.db.models.base import Base, ReviewedRow


class AgreementLink(Base):
    """`predecessor` was listed until `successor` took its place: one agreement, renamed."""

    __tablename__ = "agreement_links"

    predecessor_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    successor_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), unique=True
    )
    method: Mapped[str] = mapped_column(
        Text, comment="moa-url, name-similarity or override: why the link was made"
    )
    score: Mapped[float | None] = mapped_column(
        Float, comment="rapidfuzz similarity (0-100) of the folded agency names"
    )
    evidence: Mapped[str] = mapped_column(Text, comment="the shared MOA URL, names compared…")
    kind: Mapped[str] = mapped_column(
        Text,
        server_default="RENAME",
        comment="RENAME, RELISTING (after a gap of more than 14 days), SWITCH (another "
        "program model) or STATE (another state, with MOA URL or signing-date evidence)",
    )
    gap_days: Mapped[int | None] = mapped_column(
        Integer, comment="days from the predecessor's last list to the successor's next one"
    )


class LineageOverride(ReviewedRow, Base):
    """One reviewed row of the lineage-overrides CSV: link or unlink two agreements."""

    __tablename__ = "lineage_overrides"

    action: Mapped[str] = mapped_column(Text, comment="link or unlink")
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    note: Mapped[str | None] = mapped_column(Text)
