"""Search folds like identity does: `agencies.name_fold` is the name in lower case without
apostrophes or quotes (’ included), `&` as `and`, other punctuation and runs of spaces as
one space, kept by PostgreSQL (a generated column of the immutable `search_fold`), with a
pg_trgm GIN index so `q` / `agencyNameContains` stay fast as substring searches.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_FOLD = r"""
CREATE OR REPLACE FUNCTION search_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT btrim(regexp_replace(
        replace(regexp_replace(lower(value), '[''’‘`´"“”]', '', 'g'), '&', ' and '),
        '[^[:alnum:]]+', ' ', 'g'))
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(SEARCH_FOLD)
    op.execute(
        "ALTER TABLE agencies ADD COLUMN name_fold text"
        " GENERATED ALWAYS AS (search_fold(name)) STORED"
    )
    op.execute(
        "COMMENT ON COLUMN agencies.name_fold IS"
        " 'The name as searches fold it (db/queries/search.py); kept by PostgreSQL.'"
    )
    op.execute("CREATE INDEX ix_agencies_name_fold ON agencies USING gin (name_fold gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_agencies_name_fold")
    op.execute("ALTER TABLE agencies DROP COLUMN name_fold")
    op.execute("DROP FUNCTION search_fold(text)")
