"""Every US county and county-equivalent is a jurisdiction, whether or not ICE names it
(issue #21): Harris County, TX has no 287(g) agency, yet its policy and its jail's
detainers must join to something. The 3,143 counties of the 50 states and DC come from
`data/counties.csv` beside this migration (the Census county list as `db/gazetteer.py`
read it on 2026-12-07: FIPS, state, official name, the matching key loads use), so the
migration carries its own data and never reads live loader code.

Also: the `CITY` kind becomes `PLACE` (a city, town, village or township a policy or an
agency names, SPEC "second round"), and `fips` takes the seven-digit Census place codes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:00:00
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTIES = Path(__file__).resolve().parent.parent / "data" / "counties.csv"

_INSERT = """
WITH wanted AS (
    SELECT * FROM unnest(CAST(:fips AS text[]), CAST(:states AS text[]),
                         CAST(:names AS text[]), CAST(:keys AS text[]))
                  AS w(fips, state_code, name, name_key)
), inserted AS (
    INSERT INTO jurisdictions (kind, name, name_key, state_code, fips, parent_id)
    SELECT 'COUNTY', w.name, w.name_key, w.state_code, w.fips, s.id
    FROM wanted w JOIN jurisdictions s ON s.kind = 'STATE' AND s.state_code = w.state_code
    ON CONFLICT (kind, state_code, name_key) DO UPDATE
    SET fips = coalesce(jurisdictions.fips, EXCLUDED.fips)
    WHERE jurisdictions.fips IS NULL
    RETURNING id
)
INSERT INTO changes (entity, entity_id, op)
SELECT 'jurisdiction', id, 'UPSERT' FROM inserted ORDER BY id
"""


def upgrade() -> None:
    op.alter_column(
        "jurisdictions",
        "fips",
        type_=sa.String(7),
        existing_nullable=True,
        comment="County: 5-digit FIPS; place: 7-digit Census place code.",
    )
    op.execute("ALTER TYPE jurisdiction_kind RENAME VALUE 'CITY' TO 'PLACE'")
    with COUNTIES.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    op.execute("SELECT pg_advisory_xact_lock(287, 1)")  # change seqs commit in order
    op.get_bind().execute(
        sa.text(_INSERT),
        {
            "fips": [r["fips"] for r in rows],
            "states": [r["state"] for r in rows],
            "names": [r["name"] for r in rows],
            "keys": [r["name_key"] for r in rows],
        },
    )


def downgrade() -> None:
    """Counties nothing refers to are removed again; the kind is renamed back."""
    op.execute(
        "DELETE FROM jurisdictions j WHERE j.kind = 'COUNTY'"
        " AND NOT EXISTS (SELECT 1 FROM agencies a WHERE a.jurisdiction_id = j.id)"
        " AND NOT EXISTS (SELECT 1 FROM agreement_observations o WHERE o.jurisdiction_id = j.id)"
        " AND NOT EXISTS (SELECT 1 FROM policies p WHERE p.jurisdiction_id = j.id)"
        " AND NOT EXISTS (SELECT 1 FROM jurisdictions c WHERE c.parent_id = j.id)"
    )
    op.execute("ALTER TYPE jurisdiction_kind RENAME VALUE 'PLACE' TO 'CITY'")
    op.alter_column(
        "jurisdictions", "fips", type_=sa.String(5), existing_nullable=True, comment=None
    )
