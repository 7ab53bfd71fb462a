"""A model switch ends the agreement (#21): the SPEC's statuses are `PENDING`, `ACTIVE`,
`ENDED`, `WITHDRAWN` and `RENAMED`, and a client generated from it failed on the sixth
value `SWITCHED`. An agreement whose agency went on under another program model is now
`ENDED` (`WITHDRAWN` if it never became active), its `switchedTo` naming the agreement
that followed; a switch is no longer part of the lineage statistics count once, so the
successor's `lineageFirstSeen` is its own `firstSeen`. Both ends of every switch are
re-emitted in the change feed.

PostgreSQL cannot drop a value from an enum: the type is rebuilt without it (the stored
rows are converted first) and the status column and its index are cast to the new type.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORDER = ("ACTIVE", "PENDING", "ENDED", "RENAMED", "WITHDRAWN")  # the type's order so far


def _rebuild(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    op.execute("ALTER TYPE agreement_status RENAME TO agreement_status_old")
    op.execute(f"CREATE TYPE agreement_status AS ENUM ({listed})")
    op.execute(
        "ALTER TABLE agreements ALTER COLUMN status TYPE agreement_status"
        " USING CAST(CAST(status AS text) AS agreement_status)"
    )
    op.execute("DROP TYPE agreement_status_old")


def _reemit_switches() -> None:
    op.execute(
        "INSERT INTO changes (entity, entity_id, op)"
        " SELECT 'agreement', id, 'UPSERT' FROM ("
        "SELECT predecessor_id AS id FROM agreement_links WHERE kind = 'SWITCH'"
        " UNION SELECT successor_id FROM agreement_links WHERE kind = 'SWITCH') s ORDER BY id"
    )


def upgrade() -> None:
    op.execute(
        "UPDATE agreements SET status = CASE WHEN activated_on IS NULL"
        " THEN CAST('WITHDRAWN' AS agreement_status) ELSE CAST('ENDED' AS agreement_status) END"
        " WHERE CAST(status AS text) = 'SWITCHED'"
    )
    _rebuild(_ORDER)
    _reemit_switches()


def downgrade() -> None:
    _rebuild((*_ORDER, "SWITCHED"))
    op.execute(
        "UPDATE agreements g SET status = 'SWITCHED' FROM agreement_links l"
        " WHERE l.predecessor_id = g.id AND l.kind = 'SWITCH'"
        " AND g.status IN ('ENDED', 'WITHDRAWN')"
    )
    _reemit_switches()
