"""Shared ground for the GraphQL test modules: a module database copied from the run's
loaded template (all 54 real ICE snapshots, the policy CSV, synthetic detainers: loaded
once per run by tests/support/live.py), and helpers that run a query through a schema.

A module uses it by importing `database_url` (which overrides conftest's empty one, so
conftest's `engine` and `count_statements` see the loaded data)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.graphql.context import Context
from open287g.graphql.errors import MaskedSchema
from open287g.graphql.schema import schema as default_schema
from tests.support.database import create_database_copy, drop_database
from tests.support.fixtures import ICE_DIR

needs_data = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")


@pytest.fixture(scope="module")
async def database_url(server_url: URL, loaded_template_url: URL) -> AsyncIterator[URL]:
    """This module's copy of the loaded template."""
    url = await create_database_copy(server_url, loaded_template_url)
    yield url
    await drop_database(server_url, url)


def plain(value: object) -> Any:
    """A result as plain JSON values (the compiled path embeds orjson fragments)."""
    return orjson.loads(orjson.dumps(value))


async def execute(
    engine: AsyncEngine,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    schema: MaskedSchema = default_schema,
    settings: Settings | None = None,
) -> tuple[Any, list[dict[str, Any]]]:
    """(data, formatted errors) of one execution."""
    result = await schema.execute(
        query, variable_values=variables, context_value=Context(engine, settings or Settings())
    )
    errors = [error.formatted for error in result.errors or ()]
    return plain(result.data), plain(errors)
