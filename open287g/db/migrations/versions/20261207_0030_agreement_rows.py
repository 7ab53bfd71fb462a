"""Rendered agreement rows (#25): `agreement_rows` holds each agreement's /v1 row as JSON
text, rendered when data loads (the loads keep it in their transaction: `db/rows.py`
render_rows_sql), so a page of agreements is an index range scan and a string aggregate
instead of building every row's JSON. Filled by the derived data refresh
`rendered_rows` (`open287g db migrate`, with the code of the day); until then a page
builds the rows it misses.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 19:40:00
"""

from collections.abc import Sequence

from alembic import op

from open287g.db.migrations.derived import request_refresh

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE agreement_rows (id bigint NOT NULL, shape text NOT NULL,"
        " body text NOT NULL,"
        " CONSTRAINT pk_agreement_rows PRIMARY KEY (id),"
        " CONSTRAINT fk_agreement_rows_id_agreements FOREIGN KEY (id)"
        " REFERENCES agreements (id) ON DELETE CASCADE)"
    )
    op.execute("COMMENT ON COLUMN agreement_rows.body IS 'the REST row''s JSON text'")
    op.execute(
        "COMMENT ON COLUMN agreement_rows.shape IS"
        " 'which rendering statement wrote it (a page reads only its own)'"
    )
    request_refresh("rendered_rows", revision)


def downgrade() -> None:
    op.execute("DROP TABLE agreement_rows")
