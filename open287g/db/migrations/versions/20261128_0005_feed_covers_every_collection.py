"""The change feed covers every collection: records no load made (the states and program
models this schema installs) and every dataset get an UPSERT, so a mirror built from
`/v1/changes` alone equals the exports. Changes outlive the load run that made them (a
removed dataset leaves its history in place, followed by tombstones), so `load_run_id`
becomes optional and is cleared, not cascaded, when a run is removed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_changes_load_run_id_load_runs"
RUN_COMMENT = (
    "The run that made the change; null for the schema's own reference data and "
    "after that run's dataset was removed (the history stays for mirrors)."
)

# (entity name in the feed, table, the key the feed knows it by)
BACKFILLED = (
    ("jurisdiction", "jurisdictions", "id"),
    ("program_model", "program_models", "sort_order"),
    ("agency", "agencies", "id"),
    ("agreement", "agreements", "id"),
    ("policy", "policies", "id"),
    ("dataset", "source_files", "id"),
)


def upgrade() -> None:
    op.drop_constraint(_FK, "changes", type_="foreignkey")
    op.alter_column(
        "changes",
        "load_run_id",
        existing_type=sa.BigInteger(),
        nullable=True,
        comment=RUN_COMMENT,
    )
    op.create_foreign_key(_FK, "changes", "load_runs", ["load_run_id"], ["id"], ondelete="SET NULL")
    for entity, table, key in BACKFILLED:
        op.execute(
            f"INSERT INTO changes (entity, entity_id, op)"
            f" SELECT '{entity}', t.{key}, 'UPSERT' FROM {table} t"
            f" WHERE NOT EXISTS (SELECT 1 FROM changes c"
            f"  WHERE c.entity = '{entity}' AND c.entity_id = t.{key})"
            f" ORDER BY t.{key}"
        )


def downgrade() -> None:
    op.execute("DELETE FROM changes WHERE load_run_id IS NULL")
    op.drop_constraint(_FK, "changes", type_="foreignkey")
    op.alter_column(
        "changes",
        "load_run_id",
        existing_type=sa.BigInteger(),
        nullable=False,
        comment=None,
        existing_comment=RUN_COMMENT,
    )
    op.create_foreign_key(_FK, "changes", "load_runs", ["load_run_id"], ["id"], ondelete="CASCADE")
