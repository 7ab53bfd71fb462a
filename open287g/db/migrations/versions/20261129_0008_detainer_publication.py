"""Detainer statistics are published from two derived tables, kept by triggers on
`detainer_stats` in the same transaction as every write (no writer can forget them):

- `detainer_totals`: detainers per facility × month × outcome, exact (no personal attribute);
- `detainer_cells`: detainers per facility × month × outcome × criminality × citizenship,
  each with a keyed-hash rank and its group's keyed-hash offset, from which every
  breakdown by a personal attribute is rounded (README "Disclosure control").

The key lives in `disclosure_keys`, made here from PostgreSQL's strong random source and
never published: whoever knows it can undo the rounding's randomness.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOME = postgresql.ENUM(name="detainer_outcome", create_type=False)

# Rebuild both tables for some months from `detainer_stats` (charge categories summed).
# Ranks and offsets hash the facility's natural key (not its surrogate id), so a database
# rebuilt with the same key publishes the same values.
REFRESH_FUNCTION = """
CREATE FUNCTION detainer_publication_refresh(months date[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    SELECT secret INTO STRICT k FROM disclosure_keys WHERE name = 'detainers';
    DELETE FROM detainer_cells WHERE month = ANY(months);
    DELETE FROM detainer_totals WHERE month = ANY(months);
    INSERT INTO detainer_cells (facility_id, month, outcome, criminality, citizenship,
                                detainers, rank_key, group_offset)
    SELECT c.facility_id, c.month, c.outcome, c.criminality, c.citizenship, c.n,
           ('x' || substr(md5(concat_ws('|', k, 'cell', f.state_code, f.name_key, f.code,
                c.month, c.outcome, c.criminality, c.citizenship)), 1, 8))::bit(32)::int,
           ('x' || substr(md5(concat_ws('|', k, 'group', f.state_code, f.name_key, f.code,
                c.month, c.outcome)), 1, 13))::bit(52)::bigint / 4503599627370496.0
    FROM (SELECT facility_id, month, outcome, criminality, citizenship, sum(count) AS n
          FROM detainer_stats WHERE month = ANY(months)
          GROUP BY facility_id, month, outcome, criminality, citizenship) c
    JOIN detainer_facilities f ON f.id = c.facility_id
    WHERE c.n > 0;
    INSERT INTO detainer_totals (facility_id, month, outcome, detainers)
    SELECT facility_id, month, outcome, sum(detainers) FROM detainer_cells
    WHERE month = ANY(months) GROUP BY facility_id, month, outcome;
END $$
"""

TRIGGER_FUNCTIONS = [
    """
CREATE FUNCTION detainer_publication_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM detainer_publication_refresh(ARRAY(SELECT DISTINCT month FROM changed));
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION detainer_publication_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM detainer_publication_refresh(ARRAY(
        SELECT month FROM changed_before UNION SELECT month FROM changed_after));
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION detainer_publication_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM detainer_cells;
    DELETE FROM detainer_totals;
    RETURN NULL;
END $$
""",
]

TRIGGERS = [
    "CREATE TRIGGER detainer_publication_insert AFTER INSERT ON detainer_stats"
    " REFERENCING NEW TABLE AS changed FOR EACH STATEMENT"
    " EXECUTE FUNCTION detainer_publication_changed()",
    "CREATE TRIGGER detainer_publication_delete AFTER DELETE ON detainer_stats"
    " REFERENCING OLD TABLE AS changed FOR EACH STATEMENT"
    " EXECUTE FUNCTION detainer_publication_changed()",
    "CREATE TRIGGER detainer_publication_update AFTER UPDATE ON detainer_stats"
    " REFERENCING OLD TABLE AS changed_before NEW TABLE AS changed_after FOR EACH STATEMENT"
    " EXECUTE FUNCTION detainer_publication_updated()",
    "CREATE TRIGGER detainer_publication_truncate AFTER TRUNCATE ON detainer_stats"
    " FOR EACH STATEMENT EXECUTE FUNCTION detainer_publication_truncated()",
]


def upgrade() -> None:
    op.create_table(
        "disclosure_keys",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_disclosure_keys")),
        comment="Secret keys of the disclosure control; never published.",
    )
    # 244 bits from gen_random_uuid(), which draws on pg_strong_random().
    op.execute(
        "INSERT INTO disclosure_keys (name, secret) VALUES ('detainers',"
        " replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))"
    )
    op.create_table(
        "detainer_totals",
        sa.Column("facility_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("outcome", OUTCOME, nullable=False),
        sa.Column("detainers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["detainer_facilities.id"],
            name=op.f("fk_detainer_totals_facility_id_detainer_facilities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("facility_id", "month", "outcome", name=op.f("pk_detainer_totals")),
        comment="Exact detainers per facility, month and outcome (derived; kept by triggers).",
    )
    op.create_table(
        "detainer_cells",
        sa.Column("facility_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("outcome", OUTCOME, nullable=False),
        sa.Column("criminality", sa.Text(), nullable=False),
        sa.Column("citizenship", sa.Text(), nullable=False),
        sa.Column("detainers", sa.Integer(), nullable=False),
        sa.Column(
            "rank_key",
            sa.Integer(),
            nullable=False,
            comment="Keyed hash: the cell's place in its group's rounding order.",
        ),
        sa.Column(
            "group_offset",
            sa.Float(),
            nullable=False,
            comment="Keyed hash in [0, 1): where the group's systematic rounding starts.",
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["detainer_facilities.id"],
            name=op.f("fk_detainer_cells_facility_id_detainer_facilities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "facility_id",
            "month",
            "outcome",
            "criminality",
            "citizenship",
            name=op.f("pk_detainer_cells"),
        ),
        comment="Detainers per facility, month, outcome and personal attributes, with the "
        "keys of their rounding (derived; kept by triggers; never published unrounded).",
    )
    op.create_index("ix_detainer_cells_month", "detainer_cells", ["month"])
    op.create_index("ix_detainer_totals_month", "detainer_totals", ["month"])
    op.execute(REFRESH_FUNCTION)
    for statement in TRIGGER_FUNCTIONS + TRIGGERS:
        op.execute(statement)
    op.execute(
        "SELECT detainer_publication_refresh(ARRAY(SELECT DISTINCT month FROM detainer_stats))"
    )


def downgrade() -> None:
    for trigger in ("insert", "delete", "update", "truncate"):
        op.execute(f"DROP TRIGGER detainer_publication_{trigger} ON detainer_stats")
    for function in ("changed", "updated", "truncated"):
        op.execute(f"DROP FUNCTION detainer_publication_{function}()")
    op.execute("DROP FUNCTION detainer_publication_refresh(date[])")
    op.drop_index("ix_detainer_totals_month", table_name="detainer_totals")
    op.drop_index("ix_detainer_cells_month", table_name="detainer_cells")
    op.drop_table("detainer_cells")
    op.drop_table("detainer_totals")
    op.drop_table("disclosure_keys")
