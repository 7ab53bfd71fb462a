"""Initial schema: the whole domain, plus the reference data (states, program models).

Revision ID: 0001
Revises:
Create Date: 2026-11-28 03:01:02.787256
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from open287g.db.reference_data import PROGRAM_MODELS, STATES

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jurisdictions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("STATE", "COUNTY", "CITY", "TRIBAL", name="jurisdiction_kind"),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("state_code", sa.CHAR(length=2), nullable=False),
        sa.Column("fips", sa.String(length=5), nullable=True),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["jurisdictions.id"],
            name=op.f("fk_jurisdictions_parent_id_jurisdictions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdictions")),
        sa.UniqueConstraint(
            "kind", "state_code", "name_key", name=op.f("uq_jurisdictions_kind_state_code_name_key")
        ),
    )
    op.create_index(
        op.f("ix_jurisdictions_parent_id"), "jurisdictions", ["parent_id"], unique=False
    )
    op.create_index(
        "ix_jurisdictions_state_code_kind",
        "jurisdictions",
        ["state_code", "kind", "id"],
        unique=False,
    )
    op.create_table(
        "program_models",
        sa.Column(
            "code",
            sa.Enum(
                "JAIL_ENFORCEMENT",
                "TASK_FORCE",
                "TRIBAL_TASK_FORCE",
                "WARRANT_SERVICE_OFFICER",
                name="program_model_code",
            ),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_program_models")),
    )
    op.create_table(
        "source_files",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "dataset", sa.Text(), nullable=False, comment="ice-287g, detainers, policies, officials"
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "snapshot_kind",
            sa.Enum("PARTICIPATING", "PENDING", name="snapshot_kind"),
            nullable=True,
        ),
        sa.Column("snapshot_date", sa.Date(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_synthetic", sa.Boolean(), server_default="false", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_files")),
        sa.UniqueConstraint("dataset", "sha256", name=op.f("uq_source_files_dataset_sha256")),
    )
    op.create_table(
        "agencies",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("state_code", sa.CHAR(length=2), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "COUNTY", "MUNICIPALITY", "STATE_AGENCY", "TRIBAL", "UNKNOWN", name="agency_type"
            ),
            nullable=False,
        ),
        sa.Column("county", sa.Text(), nullable=True),
        sa.Column("jurisdiction_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_agencies_jurisdiction_id_jurisdictions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("state_code", "name_key", name=op.f("uq_agencies_state_code_name_key")),
    )
    op.create_index(
        op.f("ix_agencies_jurisdiction_id"), "agencies", ["jurisdiction_id"], unique=False
    )
    op.create_index("ix_agencies_state_code_id", "agencies", ["state_code", "id"], unique=False)
    op.create_table(
        "load_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "finished_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("rows_read", sa.Integer(), server_default="0", nullable=False),
        sa.Column("inserted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unchanged", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ended", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("repaired", sa.Integer(), server_default="0", nullable=False),
        sa.Column("software_version", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["source_files.id"],
            name=op.f("fk_load_runs_source_file_id_source_files"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_runs")),
    )
    op.create_index(
        op.f("ix_load_runs_source_file_id"), "load_runs", ["source_file_id"], unique=False
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("state_code", sa.CHAR(length=2), nullable=False),
        sa.Column(
            "model_code",
            sa.Enum(
                "JAIL_ENFORCEMENT",
                "TASK_FORCE",
                "TRIBAL_TASK_FORCE",
                "WARRANT_SERVICE_OFFICER",
                name="program_model_code",
            ),
            nullable=False,
        ),
        sa.Column(
            "status", sa.Enum("ACTIVE", "PENDING", "ENDED", name="agreement_status"), nullable=False
        ),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signed_raw", sa.Text(), nullable=True),
        sa.Column("moa_url", sa.Text(), nullable=True),
        sa.Column(
            "addendum_urls", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column(
            "activated_on",
            sa.Date(),
            nullable=True,
            comment="Date of the first participating list that carried it.",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_agreements_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["model_code"],
            ["program_models.code"],
            name=op.f("fk_agreements_model_code_program_models"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint(
            "agency_id", "model_code", name=op.f("uq_agreements_agency_id_model_code")
        ),
    )
    op.create_index("ix_agreements_model_code_id", "agreements", ["model_code", "id"], unique=False)
    op.create_index("ix_agreements_signed_on_id", "agreements", ["signed_on", "id"], unique=False)
    op.create_index("ix_agreements_state_code_id", "agreements", ["state_code", "id"], unique=False)
    op.create_index("ix_agreements_status_id", "agreements", ["status", "id"], unique=False)
    op.create_table(
        "changes",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("op", sa.Enum("UPSERT", "DELETE", name="change_op"), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_changes_load_run_id_load_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    op.create_index("ix_changes_entity_entity_id", "changes", ["entity", "entity_id"], unique=False)
    op.create_index(op.f("ix_changes_load_run_id"), "changes", ["load_run_id"], unique=False)
    op.create_table(
        "detainer_facilities",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.Text(), server_default="", nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state_code", sa.CHAR(length=2), nullable=True),
        sa.Column("jurisdiction_id", sa.BigInteger(), nullable=True),
        sa.Column("agency_id", sa.BigInteger(), nullable=True),
        sa.Column("match_method", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_detainer_facilities_agency_id_agencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_detainer_facilities_jurisdiction_id_jurisdictions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detainer_facilities")),
        sa.UniqueConstraint(
            "state_code",
            "name_key",
            "code",
            name=op.f("uq_detainer_facilities_state_code_name_key_code"),
        ),
    )
    op.create_index(
        op.f("ix_detainer_facilities_agency_id"), "detainer_facilities", ["agency_id"], unique=False
    )
    op.create_index(
        op.f("ix_detainer_facilities_jurisdiction_id"),
        "detainer_facilities",
        ["jurisdiction_id"],
        unique=False,
    )
    op.create_table(
        "load_issues",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column("column", sa.Text(), nullable=True),
        sa.Column("action", sa.Enum("REPAIRED", "REJECTED", name="issue_action"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_load_issues_load_run_id_load_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_issues")),
    )
    op.create_index(
        op.f("ix_load_issues_load_run_id"), "load_issues", ["load_run_id"], unique=False
    )
    op.create_table(
        "officials",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("agency_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_officials_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_officials_load_run_id_load_runs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officials")),
    )
    op.create_index(op.f("ix_officials_agency_id"), "officials", ["agency_id"], unique=False)
    op.create_index(op.f("ix_officials_load_run_id"), "officials", ["load_run_id"], unique=False)
    op.create_table(
        "policies",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("jurisdiction_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("RESTRICTS", "LIMITS", "NONE", "MANDATES", "UNKNOWN", name="policy_status"),
            nullable=False,
        ),
        sa.Column("declared_sanctuary", sa.Boolean(), nullable=False),
        sa.Column("policy_name", sa.Text(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("source_title", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_policies_jurisdiction_id_jurisdictions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_policies_load_run_id_load_runs"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
    )
    op.create_index(
        "ix_policies_jurisdiction_id_effective_date",
        "policies",
        ["jurisdiction_id", "effective_date"],
        unique=False,
    )
    op.create_index(op.f("ix_policies_load_run_id"), "policies", ["load_run_id"], unique=False)
    op.create_table(
        "snapshots",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "kind", sa.Enum("PARTICIPATING", "PENDING", name="snapshot_kind"), nullable=False
        ),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column(
            "published_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="Publication date, noon for ICE's 'pm' files.",
        ),
        sa.Column("source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_snapshots_load_run_id_load_runs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["source_files.id"],
            name=op.f("fk_snapshots_source_file_id_source_files"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
        sa.UniqueConstraint("source_file_id", name=op.f("uq_snapshots_source_file_id")),
    )
    op.create_index(
        "ix_snapshots_kind_published_at", "snapshots", ["kind", "published_at", "id"], unique=False
    )
    op.create_table(
        "agreement_observations",
        sa.Column("snapshot_id", sa.BigInteger(), nullable=False),
        sa.Column("agreement_id", sa.BigInteger(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("agency_name", sa.Text(), nullable=False),
        sa.Column(
            "agency_type",
            sa.Enum(
                "COUNTY", "MUNICIPALITY", "STATE_AGENCY", "TRIBAL", "UNKNOWN", name="agency_type"
            ),
            nullable=False,
        ),
        sa.Column("county", sa.Text(), nullable=True),
        sa.Column("jurisdiction_id", sa.BigInteger(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("signed_raw", sa.Text(), nullable=True),
        sa.Column("moa_url", sa.Text(), nullable=True),
        sa.Column(
            "addendum_urls", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_observations_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_agreement_observations_jurisdiction_id_jurisdictions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_agreement_observations_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "snapshot_id", "agreement_id", name=op.f("pk_agreement_observations")
        ),
    )
    op.create_index(
        op.f("ix_agreement_observations_agreement_id"),
        "agreement_observations",
        ["agreement_id"],
        unique=False,
    )
    op.create_table(
        "detainer_stats",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("load_run_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("facility_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "BOOKED_INTO_DETENTION",
                "DECLINED_BY_AGENCY",
                "OTHER_LIFTED",
                "PENDING",
                name="detainer_outcome",
            ),
            nullable=False,
        ),
        sa.Column("criminality", sa.Text(), nullable=False),
        sa.Column("citizenship", sa.Text(), nullable=False),
        sa.Column("charge_category", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility_id"],
            ["detainer_facilities.id"],
            name=op.f("fk_detainer_stats_facility_id_detainer_facilities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["load_run_id"],
            ["load_runs.id"],
            name=op.f("fk_detainer_stats_load_run_id_load_runs"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["source_files.id"],
            name=op.f("fk_detainer_stats_source_file_id_source_files"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detainer_stats")),
    )
    op.create_index(
        "ix_detainer_stats_facility_month", "detainer_stats", ["facility_id", "month"], unique=False
    )
    op.create_index(
        "ix_detainer_stats_release_month",
        "detainer_stats",
        ["source_file_id", "month"],
        unique=False,
    )
    _install_reference_data()


def downgrade() -> None:
    op.drop_index("ix_detainer_stats_release_month", table_name="detainer_stats")
    op.drop_index("ix_detainer_stats_facility_month", table_name="detainer_stats")
    op.drop_table("detainer_stats")
    op.drop_index(
        op.f("ix_agreement_observations_agreement_id"), table_name="agreement_observations"
    )
    op.drop_table("agreement_observations")
    op.drop_index("ix_snapshots_kind_published_at", table_name="snapshots")
    op.drop_table("snapshots")
    op.drop_index(op.f("ix_policies_load_run_id"), table_name="policies")
    op.drop_index("ix_policies_jurisdiction_id_effective_date", table_name="policies")
    op.drop_table("policies")
    op.drop_index(op.f("ix_officials_load_run_id"), table_name="officials")
    op.drop_index(op.f("ix_officials_agency_id"), table_name="officials")
    op.drop_table("officials")
    op.drop_index(op.f("ix_load_issues_load_run_id"), table_name="load_issues")
    op.drop_table("load_issues")
    op.drop_index(op.f("ix_detainer_facilities_jurisdiction_id"), table_name="detainer_facilities")
    op.drop_index(op.f("ix_detainer_facilities_agency_id"), table_name="detainer_facilities")
    op.drop_table("detainer_facilities")
    op.drop_index(op.f("ix_changes_load_run_id"), table_name="changes")
    op.drop_index("ix_changes_entity_entity_id", table_name="changes")
    op.drop_table("changes")
    op.drop_index("ix_agreements_status_id", table_name="agreements")
    op.drop_index("ix_agreements_state_code_id", table_name="agreements")
    op.drop_index("ix_agreements_signed_on_id", table_name="agreements")
    op.drop_index("ix_agreements_model_code_id", table_name="agreements")
    op.drop_table("agreements")
    op.drop_index(op.f("ix_load_runs_source_file_id"), table_name="load_runs")
    op.drop_table("load_runs")
    op.drop_index("ix_agencies_state_code_id", table_name="agencies")
    op.drop_index(op.f("ix_agencies_jurisdiction_id"), table_name="agencies")
    op.drop_table("agencies")
    op.drop_table("source_files")
    op.drop_table("program_models")
    op.drop_index("ix_jurisdictions_state_code_kind", table_name="jurisdictions")
    op.drop_index(op.f("ix_jurisdictions_parent_id"), table_name="jurisdictions")
    op.drop_table("jurisdictions")
    for enum_name in _ENUMS:
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)


_ENUMS = (
    "agency_type", "agreement_status", "change_op", "detainer_outcome", "issue_action",
    "jurisdiction_kind", "policy_status", "program_model_code", "snapshot_kind",
)  # fmt: skip


def _install_reference_data() -> None:
    """States and program models are facts of the interface, not something users load."""
    jurisdictions = sa.table(
        "jurisdictions",
        sa.column("kind", sa.Text),
        sa.column("name", sa.Text),
        sa.column("name_key", sa.Text),
        sa.column("state_code", sa.Text),
        sa.column("fips", sa.Text),
    )
    op.execute(
        sa.insert(jurisdictions).from_select(
            ["kind", "name", "name_key", "state_code", "fips"],
            sa.select(
                sa.text("'STATE'::jurisdiction_kind"),
                sa.column("name"),
                sa.func.upper(sa.column("name")),
                sa.column("usps"),
                sa.column("fips"),
            ).select_from(
                sa.values(
                    sa.column("usps", sa.Text),
                    sa.column("name", sa.Text),
                    sa.column("fips", sa.Text),
                    name="s",
                ).data([tuple(state) for state in STATES])
            ),
        )
    )
    for order, model in enumerate(PROGRAM_MODELS, start=1):
        op.execute(
            sa.text(
                "INSERT INTO program_models (code, name, description, legal_basis, sort_order) "
                "VALUES (CAST(:code AS program_model_code), :name, :description, :legal_basis, :o)"
            ).bindparams(**model._asdict(), o=order)
        )
