"""Detainer cells carry a cell key (README "Disclosure control"): the sum, modulo 2^31, of
the random keys of the records in the cell. No query splits a finest cell (facility ×
month × outcome × criminality × citizenship), so the key of any published cell is the sum
of its finest cells' keys, and the same records always give the same key. The finest key
is drawn from the disclosure secret, the cell's natural key and its count (the sum of n
independent uniform record keys modulo 2^31 is itself uniform), so a database rebuilt with
the same secret publishes the same values, and a cell whose records change gets a new key.

Rank, `alone` and the group offset (migration 0013) are gone: rounding is now controlled
within each published margin, at query time (db/queries/detainers.py).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 12:45:00
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFRESH_FUNCTION = """
CREATE OR REPLACE FUNCTION detainer_publication_refresh(months date[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    k text;
BEGIN
    SELECT secret INTO STRICT k FROM disclosure_keys WHERE name = 'detainers';
    DELETE FROM detainer_cells WHERE month = ANY(months);
    DELETE FROM detainer_totals WHERE month = ANY(months);
    INSERT INTO detainer_cells (facility_id, month, outcome, criminality, citizenship,
                                detainers, cell_key)
    SELECT c.facility_id, c.month, c.outcome, c.criminality, c.citizenship, c.n,
           ('x' || substr(md5(concat_ws('|', k, 'cell', f.state_code, f.code, f.name_key,
                c.month, c.outcome, c.criminality, c.citizenship, c.n)), 1, 8))::bit(32)::bigint
               % 2147483648
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

_KEY_COMMENT = "Cell key: the sum modulo 2^31 of the random keys of its records (never published)."


def upgrade() -> None:
    op.execute("DELETE FROM detainer_cells")
    op.drop_constraint("pk_detainer_cells", "detainer_cells", type_="primary")
    op.drop_column("detainer_cells", "rank")
    op.drop_column("detainer_cells", "alone")
    op.drop_column("detainer_cells", "group_offset")
    op.add_column(
        "detainer_cells",
        sa.Column("cell_key", sa.BigInteger(), nullable=False, comment=_KEY_COMMENT),
    )
    op.create_primary_key(
        "pk_detainer_cells",
        "detainer_cells",
        ["facility_id", "month", "outcome", "criminality", "citizenship"],
    )
    op.execute(
        "COMMENT ON TABLE detainer_cells IS 'Detainers per facility, month, outcome and "
        "personal attributes, with their cell keys (derived; kept by triggers; never "
        "published unperturbed).'"
    )
    op.execute(REFRESH_FUNCTION)
    op.execute(
        "SELECT detainer_publication_refresh(ARRAY(SELECT DISTINCT month FROM detainer_stats))"
    )


def downgrade() -> None:
    previous = _revision("20261129_0013_detainer_cells_rank.py")
    op.execute("DELETE FROM detainer_cells")
    op.drop_constraint("pk_detainer_cells", "detainer_cells", type_="primary")
    op.drop_column("detainer_cells", "cell_key")
    op.add_column(
        "detainer_cells",
        sa.Column(
            "rank",
            sa.Integer(),
            nullable=False,
            comment="The cell's place (1…n) in its group's rounding order, by a keyed hash.",
        ),
    )
    op.add_column(
        "detainer_cells",
        sa.Column(
            "alone",
            sa.Boolean(),
            nullable=False,
            comment="The only cell of its facility × month × outcome group.",
        ),
    )
    op.add_column(
        "detainer_cells",
        sa.Column(
            "group_offset",
            sa.Float(),
            nullable=False,
            comment="Keyed hash in [0, 1): where the group's systematic rounding starts.",
        ),
    )
    op.create_primary_key(
        "pk_detainer_cells", "detainer_cells", ["facility_id", "month", "outcome", "rank"]
    )
    op.execute(
        "COMMENT ON TABLE detainer_cells IS 'Detainers per facility, month, outcome and "
        "personal attributes, with the keys of their rounding (derived; kept by triggers; "
        "never published unrounded).'"
    )
    op.execute(str(previous.REFRESH_FUNCTION))
    op.execute(
        "SELECT detainer_publication_refresh(ARRAY(SELECT DISTINCT month FROM detainer_stats))"
    )


def _revision(name: str) -> ModuleType:
    """An earlier revision's module (its refresh function is the one this replaces)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
