"""Run by tests/db/test_declarations.py in a fresh interpreter (never imported by a test: the
declaration it changes is process-wide): adds ONE column to the Agency declaration, and
one over a table column no API shows to Agreement (`updated_at`) and to Document
(`extractor_version`), before anything else is imported, then asks every output for
them and prints what each one says (JSON on stdout). Nothing else in the project is
touched."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import os
import sys
from typing import Any

import orjson

import open287g.db.entities as entities
from open287g.db.entities import agency, agreement, document
from open287g.db.entities.declare import Column, RestColumn

NAME = "name_length"
DESCRIPTION = "Characters in the agency's name (a column the declaration test adds)."
TOUCHED = "touched_at"  # Agreement's: the table's `updated_at`, as it is stored


def declare_one_more_column() -> None:
    """The one place: a column (SQL over the row, type, description) and its REST
    position. Before anything that generates an output is imported."""
    declared = dataclasses.replace(
        agency.AGENCY,
        columns=(*agency.AGENCY.columns, Column(NAME, "length({t}.name)", int, DESCRIPTION)),
        rest=(*agency.AGENCY.rest, RestColumn(NAME)),
        _by_name={},  # the name index is rebuilt from the new columns
    )
    agency.AGENCY = declared
    entities.ENTITIES[declared.name] = declared
    touched = Column(TOUCHED, "{t}.updated_at", dt.datetime, "When its row last changed.")
    declared = dataclasses.replace(
        agreement.AGREEMENT,
        columns=(*agreement.AGREEMENT.columns, touched),
        rest=(*agreement.AGREEMENT.rest, RestColumn(TOUCHED)),
        _by_name={},
    )
    agreement.AGREEMENT = declared
    entities.ENTITIES[declared.name] = declared
    version = Column("extractor_version", "{t}.extractor_version", int | None, "Its reader.")
    declared = dataclasses.replace(
        document.DOCUMENT,
        columns=(*document.DOCUMENT.columns, version),
        rest=(*document.DOCUMENT.rest, RestColumn("extractor_version")),
        _by_name={},
    )
    document.DOCUMENT = declared
    entities.ENTITIES[declared.name] = declared


async def main(database_url: str) -> dict[str, Any]:
    import httpx
    from sqlalchemy.ext.asyncio import create_async_engine

    from open287g.app import create_app
    from open287g.config import Settings
    from open287g.graphql.schema import schema

    engine = create_async_engine(database_url)
    app = create_app(Settings(response_cache=False, rate_limit_per_second=0), engine=engine)
    found: dict[str, Any] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            page = (await http.get("/v1/agencies?limit=3")).json()["data"]
            found["rest"] = [[row["name"], row.get(NAME)] for row in page]
            text = (await http.get("/v1/agencies?format=csv")).text
            rows = list(csv.DictReader(io.StringIO(text)))
            found["csv"] = [[row["name"], row.get(NAME)] for row in rows[:3]]
            lines = (await http.get("/v1/agencies?format=ndjson")).text.splitlines()
            found["ndjson"] = [[r["name"], r.get(NAME)] for r in map(orjson.loads, lines[:3])]
            spec = (await http.get("/openapi.json")).json()
            found["openapi"] = spec["components"]["schemas"]["AgencyRow"]["properties"].get(NAME)
            package = (await http.get("/datapackage.json")).json()
            resource = next(r for r in package["resources"] if r["name"] == "agencies")
            found["datapackage"] = [f for f in resource["schema"]["fields"] if f["name"] == NAME]
            found["feed"] = []
            since = 0  # past the migration's 3,143 counties to the first agencies
            for _ in range(10):
                page = (await http.get(f"/v1/changes?since={since}&limit=1000")).json()
                found["feed"] += [
                    [c["record"]["name"], c["record"].get(NAME)]
                    for c in page["data"]
                    if c["entity"] == "agency" and c.get("record")
                ]
                if found["feed"] or not page["data"]:
                    break
                since = page["next_since"]
            found["feed"] = found["feed"][:3]
            query = "{ agencies(first: 3) { edges { node { name nameLength } } } }"
            answer = (await http.post("/graphql", json={"query": query})).json()
            found["graphql"] = [
                [e["node"]["name"], e["node"]["nameLength"]]
                for e in answer["data"]["agencies"]["edges"]
            ]
            found["sdl"] = [
                line.strip() for line in schema.as_str().splitlines() if "nameLength" in line
            ]
            found["sdl_description"] = DESCRIPTION in schema.as_str()
            found["touched"] = await _touched(http)
            found["documents"] = await _documents(http)
    finally:
        await engine.dispose()
    return found


async def _touched(http: Any) -> dict[str, Any]:
    """Agreement's `touched_at` on every path: REST page and item, GraphQL's root
    connection (current and as of a date) and node."""
    found: dict[str, Any] = {}
    page = (await http.get("/v1/agreements?limit=3")).json()["data"]
    found["rest"] = [row.get(TOUCHED) for row in page]
    item = (await http.get(f"/v1/agreements/{page[0]['id']}")).json()["data"]
    found["item"] = [item.get(TOUCHED)]
    for name, arguments in (("graphql", "first: 3"), ("as_of", 'first: 3, asOf: "2030-01-01"')):
        query = f"{{ agreements({arguments}) {{ edges {{ node {{ id touchedAt }} }} }} }}"
        answer = (await http.post("/graphql", json={"query": query})).json()
        found[name] = [e["node"]["touchedAt"] for e in answer["data"]["agreements"]["edges"]]
    query = f'{{ node(id: "{page[0]["id"]}") {{ ... on Agreement {{ touchedAt }} }} }}'
    found["node"] = [
        (await http.post("/graphql", json={"query": query})).json()["data"]["node"]["touchedAt"]
    ]
    return found


async def _documents(http: Any) -> list[Any]:
    """Document's `extractor_version` on every path (no document is loaded: each statement
    compiles and runs, or answers an error): REST's page and search, GraphQL's."""
    found: list[Any] = []
    for path in ("/v1/documents", "/v1/documents?q=sheriff"):
        response = await http.get(path)
        found.append([path, response.status_code])
    for arguments in ("first: 1", 'first: 1, search: "sheriff"'):
        query = f"{{ documents({arguments}) {{ edges {{ node {{ extractorVersion }} }} }} }}"
        answer = (await http.post("/graphql", json={"query": query})).json()
        found.append([arguments, answer.get("errors")])
    return found


if __name__ == "__main__":
    declare_one_more_column()
    url = os.environ["PROBE_DATABASE_URL"]
    sys.stdout.write(orjson.dumps(asyncio.run(main(url))).decode())
