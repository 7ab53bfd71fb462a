"""Detainer facilities are placed in their county with the evidence (issue #22): the
county's FIPS code, how it was found (the county the facility's name gives, or its city
through the gazetteer) and the match's score, and how the agency that runs the jail was
found (the county's sheriff) with its score. Facilities are re-placed by the next load
(`rematch_facilities`).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 13:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("county_fips", sa.Text(), "Five-digit FIPS code of the county the facility is in."),
    ("placement_method", sa.Text(), "How the county was found: facility-name:<gazetteer "
     "method> or facility-city (the city through the gazetteer)."),
    ("placement_score", sa.Float(), "Score (0-100) of the county match."),
    ("agency_method", sa.Text(), "How the agency running the jail was found: county-sheriff "
     "(the one sheriff's office of the county)."),
    ("agency_score", sa.Float(), "Score (0-100) of the agency link."),
)  # fmt: skip


def upgrade() -> None:
    for name, kind, comment in COLUMNS:
        op.add_column("detainer_facilities", sa.Column(name, kind, comment=comment))


def downgrade() -> None:
    for name, _, _ in reversed(COLUMNS):
        op.drop_column("detainer_facilities", name)
