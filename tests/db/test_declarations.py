"""Declare a field once and it appears everywhere (issue #11): a fresh interpreter adds one
column to the Agency declaration (`tests/support/declared_field_probe.py`: SQL, type, description
and REST position, nothing else) and every output then serves it, documented: GraphQL
(schema and the compiled answer), REST JSON, CSV, NDJSON, OpenAPI, datapackage.json and
the change feed's records. A column over a table column no API showed before (Agreement's
`updated_at`, Document's `extractor_version`) compiles on every path: pages select what
the entity declares (#25)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import orjson
from sqlalchemy.engine import URL

from tests.support.database import create_database_copy, drop_database
from tests.support.environment import PROJECT_ROOT

# What the probe declares (not imported from it: importing it must change nothing here).
DESCRIPTION = "Characters in the agency's name (a column the declaration test adds)."


def _probe(url: URL) -> dict[str, Any]:
    env = dict(os.environ, PROBE_DATABASE_URL=url.render_as_string(hide_password=False))
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.declared_field_probe"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    found: dict[str, Any] = orjson.loads(done.stdout)
    return found


async def test_a_column_declared_once_reaches_every_output(
    server_url: URL, loaded_template_url: URL
) -> None:
    url = await create_database_copy(server_url, loaded_template_url)
    try:
        found = _probe(url)
    finally:
        await drop_database(server_url, url)
    for output in ("rest", "ndjson", "feed", "graphql"):
        rows = found[output]
        assert rows, f"{output}: no agencies"
        assert all(length == len(name) for name, length in rows), (output, rows)
    assert found["csv"]
    assert all(length == str(len(name)) for name, length in found["csv"]), found["csv"]
    assert found["openapi"]["type"] == "integer"
    assert found["openapi"]["description"] == DESCRIPTION
    [field] = found["datapackage"]
    assert field["type"] == "integer"
    assert field["description"] == DESCRIPTION
    assert found["sdl"] == ["nameLength: Int!"]
    assert found["sdl_description"], "the GraphQL field carries the declared description"
    touched = found["touched"]
    for path in ("rest", "item", "graphql", "as_of", "node"):
        assert touched[path], path
        assert all(isinstance(value, str) and value[:2] == "20" for value in touched[path]), (
            path,
            touched[path],
        )
    assert found["documents"] == [
        ["/v1/documents", 200],
        ["/v1/documents?q=sheriff", 200],
        ["first: 1", None],
        ['first: 1, search: "sheriff"', None],
    ]
