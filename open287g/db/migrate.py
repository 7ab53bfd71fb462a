"""Alembic, driven from Python: upgrade, downgrade and "is this database at head?"."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: URL) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["database_url"] = url
    return config


def upgrade(url: URL, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: URL, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(URL.create("postgresql+asyncpg")))
    return set(script.get_heads())


async def current_revisions(conn: AsyncConnection) -> set[str]:
    def _current(sync_conn: object) -> set[str]:
        context = MigrationContext.configure(sync_conn)  # type: ignore[arg-type]
        return set(context.get_current_heads())

    return await conn.run_sync(_current)


class SchemaNotCurrent(Exception):
    """The database is not migrated to the code's head revision."""


async def require_current_schema(conn: AsyncConnection) -> None:
    current, heads = await current_revisions(conn), head_revisions()
    if current != heads:
        found = ", ".join(sorted(current)) or "no schema"
        raise SchemaNotCurrent(
            f"database schema is at {found}, the code needs {', '.join(sorted(heads))}: "
            "run `open287g db migrate`"
        )
