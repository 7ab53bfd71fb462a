"""How a migration asks for derived data to be recomputed (frozen: old migrations call it).

Derived data (agreement lineage and statuses, placements, county matches) is computed by
the loaders' rules, which change. A migration must not import them, or it would mean
something else each time they change; it records a pending refresh by name instead, and
`open287g db migrate` has the current code perform every pending refresh once the
database is at head (`open287g/loaders/derived.py`, where the names are defined).

The table is made here, when the first migration asks, as well as by migration 0028
(for databases that were past every asking migration before it existed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS derived_refreshes (name text NOT NULL,"
    " requested_by text NOT NULL, requested_at timestamptz NOT NULL DEFAULT now(),"
    " CONSTRAINT pk_derived_refreshes PRIMARY KEY (name))",
    "COMMENT ON COLUMN derived_refreshes.name IS 'the refresh (counties, lineage, placements)'",
    "COMMENT ON COLUMN derived_refreshes.requested_by IS 'the migration that asked for it'",
)


def create_table() -> None:
    for statement in CREATE_TABLE:
        op.execute(statement)


def request_refresh(name: str, revision: str) -> None:
    """Record that `name` must be recomputed by the code that migrates to head."""
    create_table()
    op.get_bind().execute(
        sa.text(
            "INSERT INTO derived_refreshes (name, requested_by) VALUES (:name, :revision)"
            " ON CONFLICT (name) DO NOTHING"
        ),
        {"name": name, "revision": revision},
    )
