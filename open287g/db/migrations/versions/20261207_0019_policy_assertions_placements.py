"""Policies are assertions, side by side; placements can be corrected (issue #21).

- `policies` gain `source_key` (the source title folded, part of an assertion's identity,
  so two sources that leave name, date and URL empty stay two assertions), `source_date`
  (when the source said it) and `basis` (LAW, DESIGNATION or REPORT: what kind of
  assertion, used by the derivation rule); `declared_sanctuary` may be null (the source
  says nothing about a self-declaration: the DOJ's designations).
- `placement_overrides` holds reviewed placements; the three ICE errors with known right
  answers come with the schema (rows without a load run) and are applied here to what is
  stored: Texarkana PD, AR is in Miller County (05091), not Texas's Bowie; "German Coast"
  is St. Charles Parish (22089); the Albemarle District Jail, NC serves Pasquotank (37139),
  Camden (37029) and Perquimans (37143). Loads apply them from now on
  (`loaders/ice287g/counties.py`). The data and SQL are this migration's own.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BASIS = postgresql.ENUM("LAW", "DESIGNATION", "REPORT", name="policy_basis", create_type=False)

# (state, agency as ICE names it, its folded name, counties (first: its own), place, note)
REVIEWED = (
    ("AR", "Texarkana Police Department", "TEXARKANA POLICE DEPARTMENT", ["05091"],
     "Texarkana", "Texarkana, AR is in Miller County; ICE's COUNTY cell names Bowie County, "
     "which is Texarkana, TX's county across the state line."),
    ("LA", "St. Charles Place Sheriff's Office", "ST CHARLES PLACE SHERIFFS OFFICE", ["22089"],
     None, "ICE's COUNTY cell says German Coast, the colonial name of the St. Charles Parish "
     "area; the sheriff is St. Charles Parish's ('Place' is a typo of Parish)."),
    ("NC", "Albemarle District Jail", "ALBEMARLE DISTRICT JAIL", ["37139", "37029", "37143"],
     None, "A regional jail in Elizabeth City (Pasquotank) run by the Albemarle District "
     "Jail Commission for Pasquotank, Camden and Perquimans; Albemarle County is in Virginia."),
)  # fmt: skip

# What the stored data becomes: agencies and their list rows move to the reviewed county
# (a place's parent moves there instead), and every such move is in the change feed.
_APPLY = """
WITH target AS (
    SELECT a.id AS agency_id, j.id AS county_id, a.jurisdiction_id AS old_id
    FROM agencies a JOIN jurisdictions j ON j.kind = 'COUNTY' AND j.fips = :fips
    WHERE a.state_code = :state AND a.name_key = :key
), place AS (
    UPDATE jurisdictions p SET parent_id = t.county_id
    FROM target t WHERE CAST(:place AS text) IS NOT NULL AND p.id = t.old_id AND p.kind = 'PLACE'
    RETURNING p.id
), observed AS (
    UPDATE agreement_observations o SET jurisdiction_id = t.county_id
    FROM agreements g, target t
    WHERE CAST(:place AS text) IS NULL AND g.id = o.agreement_id AND g.agency_id = t.agency_id
    RETURNING o.agreement_id
), moved AS (
    UPDATE agencies a SET jurisdiction_id = t.county_id
    FROM target t WHERE CAST(:place AS text) IS NULL AND a.id = t.agency_id
    RETURNING a.id
)
INSERT INTO changes (entity, entity_id, op)
SELECT 'agency', id, CAST('UPSERT' AS change_op) FROM moved
UNION ALL SELECT 'jurisdiction', id, CAST('UPSERT' AS change_op) FROM place
"""


def upgrade() -> None:
    BASIS.create(op.get_bind(), checkfirst=False)
    op.add_column(
        "policies",
        sa.Column(
            "source_key",
            sa.Text(),
            server_default="",
            nullable=False,
            comment="The source title folded: one source's identity.",
        ),
    )
    op.add_column(
        "policies",
        sa.Column(
            "source_date",
            sa.Date(),
            nullable=True,
            comment="When the source said it (its publication), not when the policy began.",
        ),
    )
    op.add_column("policies", sa.Column("basis", BASIS, nullable=True))
    op.execute(
        "UPDATE policies SET source_key = upper(btrim(regexp_replace(coalesce(source_title, ''),"
        " '[^A-Za-z0-9]+', ' ', 'g'))),"
        " basis = CAST(CASE WHEN coalesce(policy_name, '') || coalesce(notes, '') ILIKE"
        " '%designat%' THEN 'DESIGNATION' WHEN effective_date IS NOT NULL THEN 'LAW'"
        " ELSE 'REPORT' END AS policy_basis)"
    )
    op.alter_column("policies", "basis", nullable=False)
    op.alter_column(
        "policies",
        "declared_sanctuary",
        nullable=True,
        comment="The jurisdiction's own declaration; null when the source says nothing.",
    )
    op.drop_constraint("uq_policies_jurisdiction_id_policy_key", "policies", type_="unique")
    op.create_unique_constraint(
        "uq_policies_jurisdiction_id_source_key_policy_key",
        "policies",
        ["jurisdiction_id", "source_key", "policy_key"],
    )

    op.create_table(
        "placement_overrides",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=True),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("state_code", sa.CHAR(2), nullable=False),
        sa.Column("agency_key", sa.Text(), nullable=False, comment="the agency's folded name"),
        sa.Column("agency_name", sa.Text(), nullable=False),
        sa.Column(
            "county_fips",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            comment="the counties it serves, the first its own",
        ),
        sa.Column("place", sa.Text(), nullable=True, comment="the place inside the first county"),
        sa.Column("note", sa.Text(), nullable=True, comment="why: the evidence"),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name="fk_placement_overrides_load_run_id_load_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_placement_overrides"),
    )
    op.create_index("ix_placement_overrides_load_run_id", "placement_overrides", ["load_run_id"])
    bind = op.get_bind()
    op.execute("SELECT pg_advisory_xact_lock(287, 1)")  # change seqs commit in order
    for state, name, key, fips, place, note in REVIEWED:
        bind.execute(
            sa.text(
                "INSERT INTO placement_overrides (state_code, agency_key, agency_name,"
                " county_fips, place, note) VALUES (:s, :k, :n, :f, :p, :note)"
            ),
            {"s": state, "k": key, "n": name, "f": fips, "p": place, "note": note},
        )
        bind.execute(sa.text(_APPLY), {"state": state, "key": key, "fips": fips[0], "place": place})


def downgrade() -> None:
    """Placements made by the overrides stay (they are right); the schema goes back."""
    op.drop_index("ix_placement_overrides_load_run_id", table_name="placement_overrides")
    op.drop_table("placement_overrides")
    op.drop_constraint(
        "uq_policies_jurisdiction_id_source_key_policy_key", "policies", type_="unique"
    )
    op.execute(
        "DELETE FROM policies p USING policies q WHERE p.jurisdiction_id = q.jurisdiction_id"
        " AND p.policy_key = q.policy_key AND p.id > q.id"
    )
    op.create_unique_constraint(
        "uq_policies_jurisdiction_id_policy_key", "policies", ["jurisdiction_id", "policy_key"]
    )
    op.execute("UPDATE policies SET declared_sanctuary = coalesce(declared_sanctuary, false)")
    op.alter_column("policies", "declared_sanctuary", nullable=False, comment=None)
    op.drop_column("policies", "basis")
    op.drop_column("policies", "source_date")
    op.drop_column("policies", "source_key")
    BASIS.drop(op.get_bind(), checkfirst=False)
