"""A Relay-style client over every connection of the schema (found by introspection, so a
new connection is covered as soon as it exists): it pages forwards (`first`/`after`) and
backwards (`last`/`before`) to the end, on both paths (compiled and resolvers), and checks
what Relay's `@connection` relies on: the two walks see the same items in opposite order,
as many as `totalCount`; `pageInfo`'s cursors are the page's first and last edges';
`hasNextPage`/`hasPreviousPage` say when to stop; `first: 0` is an empty page."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.graphql.errors import MaskedSchema
from open287g.graphql.schema import build_schema, schema
from tests.support.graphql_support import database_url, execute, needs_data

__all__ = ["database_url"]
pytestmark = needs_data

PAGE = 100
FIELDS = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
EDGES = "edges { cursor node { __typename } }"  # a cursor names its item (not all are Nodes)
REQUIRED = {"agreementChanges": '(from: "2000-01-01", to: "2100-01-01")'}
# Where a nested connection's parent comes from: the root listing objects of that type.
PARENTS = {"Agreement": "agreements", "Agency": "agencies", "Jurisdiction": "jurisdictions"}
RESOLVERS = build_schema(compiled=False)
PATHS = {"compiled": schema, "resolvers": RESOLVERS}


def connections() -> list[tuple[str, str]]:
    found = []
    for type_ in schema._schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            for name, field in type_.fields.items():
                if get_named_type(field.type).name.endswith("Connection"):
                    found.append((type_.name, name))
    return sorted(found)


def _arguments(field: str, window: dict[str, Any]) -> str:
    given = [f"{k}: {v!r}".replace("'", '"') for k, v in window.items() if v is not None]
    fixed = REQUIRED.get(field, "")[1:-1]
    inside = ", ".join([*([fixed] if fixed else []), *given])
    return f"({inside})" if inside else ""


class Client:
    """Asks for one connection (at the root, or under the node `parent`) one page at a time."""

    def __init__(self, engine: AsyncEngine, on: MaskedSchema, owner: str, field: str) -> None:
        self.engine, self.on, self.owner, self.field = engine, on, owner, field
        self.parent: str | None = None

    async def page(self, **window: Any) -> dict[str, Any]:
        selection = f"{self.field}{_arguments(self.field, window)} {{ {FIELDS} {EDGES} }}"
        if self.owner == "Query":
            query = f"{{ {selection} }}"
        else:
            query = f'{{ node(id: "{self.parent}") {{ ... on {self.owner} {{ {selection} }} }} }}'
        data, errors = await execute(self.engine, query, schema=self.on)
        assert errors == [], (query, errors)
        found: dict[str, Any] = (
            data[self.field] if self.owner == "Query" else data["node"][self.field]
        )
        return found

    async def choose_parent(self) -> None:
        """The parent (among the first PAGE) whose connection is longest: more pages."""
        root = PARENTS[self.owner]
        inner = f"id {self.field} {{ totalCount }}"
        query = f"{{ {root}(first: {PAGE}) {{ edges {{ node {{ {inner} }} }} }} }}"
        data, errors = await execute(self.engine, query, schema=self.on)
        assert errors == []
        nodes = [edge["node"] for edge in data[root]["edges"]]
        self.parent = max(nodes, key=lambda n: n[self.field]["totalCount"])["id"]


def _check_page(page: dict[str, Any]) -> list[str]:
    edges = page["edges"]
    info = page["pageInfo"]
    assert info["startCursor"] == (edges[0]["cursor"] if edges else None)
    assert info["endCursor"] == (edges[-1]["cursor"] if edges else None)
    return [edge["cursor"] for edge in edges]


@pytest.fixture(
    params=[(*connection, path) for connection in connections() for path in PATHS],
    ids="-".join,
)
async def client(request: pytest.FixtureRequest, engine: AsyncEngine) -> Client:
    """A client of each connection on each path; a nested one under a parent with items."""
    owner, field, path = request.param
    client = Client(engine, PATHS[path], owner, field)
    if owner != "Query":
        await client.choose_parent()
    return client


async def test_a_relay_client_pages_both_ways(client: Client) -> None:
    whole = await client.page(first=PAGE)
    total = whole["totalCount"]
    # A few pages whatever the list's length; the resolvers fetch every column of every
    # item shown, so they walk in pages of PAGE (a thousand agreements: ten each way).
    size = PAGE if client.on is RESOLVERS else max(1, min(PAGE, total // 4 + 1))
    forwards: list[str] = []
    page = await client.page(first=size)
    assert page["pageInfo"]["hasPreviousPage"] is False
    while True:
        forwards += _check_page(page)
        assert page["totalCount"] == total
        if not page["pageInfo"]["hasNextPage"]:
            break
        page = await client.page(first=size, after=page["pageInfo"]["endCursor"])
        assert page["pageInfo"]["hasPreviousPage"] is True
    backwards: list[str] = []
    page = await client.page(last=size)
    assert page["pageInfo"]["hasNextPage"] is False
    while True:
        backwards = _check_page(page) + backwards
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        page = await client.page(last=size, before=page["pageInfo"]["startCursor"])
        assert page["pageInfo"]["hasNextPage"] is True
    assert len(forwards) == total, (client.owner, client.field)
    assert len(set(forwards)) == total
    assert backwards == forwards
    if total <= PAGE:
        assert _check_page(whole) == forwards


async def test_first_zero_is_an_empty_page(client: Client) -> None:
    for window in ({"first": 0}, {"last": 0}):
        page = await client.page(**window)
        assert page["edges"] == []
        info = page["pageInfo"]
        assert info["startCursor"] is None
        assert info["endCursor"] is None
        following = info["hasNextPage"] if "first" in window else info["hasPreviousPage"]
        assert following == (page["totalCount"] > 0)


async def test_a_window_runs_one_way(engine: AsyncEngine) -> None:
    client = Client(engine, schema, "Query", "agencies")
    cursor = (await client.page(first=1))["pageInfo"]["endCursor"]
    query = f'{{ agencies(last: 2, after: "{cursor}") {{ totalCount }} }}'
    for on in (schema, RESOLVERS):
        data, errors = await execute(engine, query, schema=on)
        assert data is None
        assert "not both" in errors[0]["message"]


def test_the_schema_shows_the_default_page_size() -> None:
    for owner, field in connections():
        type_ = schema._schema.type_map[owner]
        assert isinstance(type_, GraphQLObjectType)
        arguments = type_.fields[field].args
        assert arguments["first"].default_value == 20
        assert {"first", "after", "last", "before"} <= set(arguments)
