"""/v1/documents on the compiler's path (issue #11): a page, a full-text search's too, is ONE
SQL statement; a search is best rank first, then id, with the cursors GraphQL's
`documents(search:)` gives (both read `db/queries/documents.py::documents_page`); the rows
say what the tables say; cursors this API did not issue are a 400, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries.ids import from_global_id, to_global_id
from open287g.graphql.context import Context
from open287g.graphql.schema import schema
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.moas.load import load_moas, plan_moas
from open287g.loaders.moas.read import ReadLimits
from tests.support.database import StatementCounter
from tests.support.fixtures import FREEBORN, JUPITER, two_moa_agreements_xlsx, write
from tests.support.moas import MOA_DIR

pytestmark = pytest.mark.skipif(not MOA_DIR.is_dir(), reason=f"{MOA_DIR} not present")
OTHERS = (
    "287gJEM_BentonCoAR_06-30-2020.pdf",
    "287gWSO_BakerCoFl2019-10-15.pdf",
    "ArcadiaPDFL_TFM_MOA_030425.pdf",
    "AustinCoTX_WSO_MOA_04.16.2025.pdf",
    "BartowPDFL_TFM_MOA_042925.pdf",
    "CandiaPDNH_TFM_MOA_042325.pdf",
)
SEARCHES = ("police", "sheriff -police", '"task force"', "county or city", "Barbera", "zyzzyva")


@pytest.fixture(scope="module")
async def http(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("documents")
    sheet = write(folder, "participatingAgencies04012025am.xlsx", two_moa_agreements_xlsx())
    await load_sources(engine, plan_sources([str(sheet)]), Settings())
    sources = [str(MOA_DIR / name) for name in (JUPITER, FREEBORN, *OTHERS)]
    await load_moas(engine, plan_moas(sources), Settings(), limits=ReadLimits(ocr=False))
    settings = Settings(response_cache=False, rate_limit_per_second=0)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def body(http: httpx.AsyncClient, url: str, params: dict[str, str]) -> dict[str, Any]:
    response = await http.get(url, params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def rest_pages(http: httpx.AsyncClient, search: str | None, limit: int) -> list[Any]:
    """Every page of a listing or search: each row's (id, match page, snippet) and cursor."""
    params = {"limit": str(limit), **({"q": search} if search is not None else {})}
    pages: list[Any] = []
    while True:
        page = await body(http, "/v1/documents", params)
        rows = [(r["id"], r["match_page"], r["snippet"]) for r in page["data"]]
        pages.append((rows, page["next_cursor"]))
        if not page["next_cursor"]:
            return pages
        params["cursor"] = page["next_cursor"]


async def graphql_pages(engine: AsyncEngine, search: str, first: int) -> list[Any]:
    pages: list[Any] = []
    after = "null"
    while True:
        result = await schema.execute(
            f"{{ documents(search: {json.dumps(search)}, first: {first}, after: {after}) {{"
            " edges { node { id match { page rank snippet } } }"
            " pageInfo { hasNextPage endCursor } } }",
            context_value=Context(engine, Settings()),
        )
        assert result.errors is None, result.errors
        found = orjson.loads(orjson.dumps(result.data))["documents"]
        nodes = [edge["node"] for edge in found["edges"]]
        ranks = [(-node["match"]["rank"], int(from_global_id(node["id"])[1])) for node in nodes]
        rows = [(n["id"], n["match"]["page"], n["match"]["snippet"]) for n in nodes]
        more = found["pageInfo"]["hasNextPage"]
        pages.append((rows, found["pageInfo"]["endCursor"] if more else None, ranks))
        if not more:
            return pages
        after = json.dumps(found["pageInfo"]["endCursor"])


async def test_a_page_and_a_search_are_one_statement(
    http: httpx.AsyncClient, count_statements: StatementCounter
) -> None:
    for params in ({"limit": "3"}, {"q": "police", "limit": "2"}, {"q": "   "}):
        count_statements.statements.clear()
        page = await body(http, "/v1/documents", params)
        assert count_statements.count == 1, (params, count_statements.statements)
        assert list(page) == ["data", "next_cursor", "data_version"]
        assert page["data"], params
        if page["next_cursor"]:
            count_statements.statements.clear()
            await body(http, "/v1/documents", {**params, "cursor": page["next_cursor"]})
            assert count_statements.count == 1


@pytest.mark.parametrize("search", SEARCHES)
async def test_a_search_is_graphqls_best_first_then_id(
    http: httpx.AsyncClient, engine: AsyncEngine, search: str
) -> None:
    rest = await rest_pages(http, search, 2)
    graphql = await graphql_pages(engine, search, 2)
    assert [(rows, cursor) for rows, cursor, _ in graphql] == rest
    ranks = [rank for _, _, page in graphql for rank in page]
    assert ranks == sorted(ranks)  # best rank first, ties by id
    shown = [row for rows, _ in rest for row in rows]
    assert len(shown) == len({row[0] for row in shown})
    if search != "zyzzyva":
        assert shown
        assert all(page is not None and "«" in snippet for _, page, snippet in shown)


async def test_every_document_once_in_id_order(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    pages = await rest_pages(http, None, 3)
    assert pages == await rest_pages(http, " ", 3)  # a blank search is no search
    ids = [row[0] for rows, _ in pages for row in rows]
    async with engine.connect() as conn:
        keys = (await conn.execute(text("SELECT id FROM documents ORDER BY id"))).scalars()
        assert ids == [to_global_id("Document", key) for key in keys]
    assert all(page is None and snippet is None for rows, _ in pages for _, page, snippet in rows)


async def test_rows_say_what_the_tables_say(http: httpx.AsyncClient, engine: AsyncEngine) -> None:
    rows = (await body(http, "/v1/documents", {"limit": "1000"}))["data"]
    async with engine.connect() as conn:
        links = (
            await conn.execute(
                text(
                    "SELECT d.file_name, coalesce(array_agg(l.agreement_id ORDER BY l.agreement_id)"
                    " FILTER (WHERE l.agreement_id IS NOT NULL), '{}') FROM documents d"
                    " LEFT JOIN document_agreements l ON l.document_id = d.id GROUP BY d.file_name"
                )
            )
        ).all()
        signers = (
            await conn.execute(
                text(
                    "SELECT DISTINCT ON (d.file_name) d.file_name, f.value FROM documents d"
                    " JOIN document_fields f ON f.document_id = d.id"
                    " AND f.field = 'agency_signatory.name' AND NOT f.candidate"
                    " ORDER BY d.file_name, f.ordinal"
                )
            )
        ).all()
    by_name = {row["file_name"]: row for row in rows}
    assert len(by_name) == 2 + len(OTHERS)
    assert {name: [to_global_id("Agreement", a) for a in ids] for name, ids in links} == {
        name: row["agreement_ids"] for name, row in by_name.items()
    }
    assert len(by_name[JUPITER]["agreement_ids"]) == 1
    first_signer: dict[str, str | None] = dict(signers)  # the first published value, null or not
    assert {name: first_signer.get(name) for name in by_name} == {
        name: row["agency_signatory_name"] for name, row in by_name.items()
    }
    jupiter = by_name[JUPITER]
    assert jupiter["agency_signatory_name"] == "Michael Barbera"
    assert jupiter["ice_signatory_signed_on"] == "2025-03-25"
    assert dt.datetime.fromisoformat(jupiter["fetched_at"]).tzinfo is not None
    item = await body(http, f"/v1/documents/{jupiter['id']}", {})
    assert item["data"] == jupiter  # the item is the row, on the same declaration


def cursor(raw: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(raw)).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"q": "police", "cursor": cursor(["search", "abc", 2])}, "not one this API issued"),
        ({"q": "police", "cursor": cursor(["search", "NaN", 2])}, "not one this API issued"),
        ({"q": "police", "cursor": cursor(["search", 1, 2])}, "not one this API issued"),
        ({"q": "police", "cursor": cursor(["id", 1, 1])}, "issued for ordering 'id'"),
        ({"cursor": cursor(["search", "0.1", 2])}, "issued for ordering 'search'"),
        ({"q": "police", "cursor": "abc", "format": "csv"}, "not one this API issued"),
        ({"limit": "1001"}, "limit must be between 1 and 1000"),
    ],
)
async def test_cursors_it_did_not_issue_are_a_400(
    http: httpx.AsyncClient, params: dict[str, str], detail: str
) -> None:
    response = await http.get("/v1/documents", params=params)
    assert response.status_code == 400, response.text
    assert detail in response.json()["detail"]
