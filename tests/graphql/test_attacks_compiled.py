"""Attacks on the surfaces compiled to one statement (GraphQL `Document.pageText`,
`documents(search:)`, REST `/v1/documents?q=`, the plan cache), each a defect found by
attacking the real app and fixed:

- `pageText(pages:)` took any number of page numbers: a 64 KB body carried 30,000 of them,
  under each of 62 documents (`nodes(ids:)`), which cost 0.9 s of event loop to compile
  and kept 10 MB per cached plan while the plan cache charged it about 80 KB (40 such
  documents took a server from 150 MB to 590 MB). Now more than MAX_TEXT_PAGES numbers
  are refused before any page is read, and a plan is charged its text values' length.
- A search with 32 or more `-` (NOT) in a row made websearch_to_tsquery fail ("tsquery
  stack too small"): a 500 from REST, "Unexpected error." from GraphQL, each with a
  traceback at ERROR. Now it is the client's error (400, one INFO line).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.db.queries.documents import MAX_TEXT_PAGES
from open287g.db.queries.ids import to_global_id
from open287g.graphql.plan import Plan
from open287g.graphql.schema import build_schema
from open287g.loaders.moas.load import load_moas, plan_moas
from open287g.loaders.moas.read import ReadLimits
from tests.support.database import StatementCounter
from tests.support.fixtures import JUPITER
from tests.support.graphql_support import execute
from tests.support.moas import MOA_DIR

pytestmark = pytest.mark.skipif(not (MOA_DIR / JUPITER).is_file(), reason="no MOA PDFs")

PAGE_TEXT = (
    "query($ids: [ID!]!, $p: [Int!]) { nodes(ids: $ids) {"
    " ... on Document { id pageText(pages: $p) { number } } } }"
)
# 32 NOTs after a word, or 33 at the start, overflow PostgreSQL's tsquery stack.
HOSTILE_SEARCHES = ["-" * 40, "- " * 40 + "county", "county " + "-!" * 32 + "sheriff"]
FINE_SEARCHES = ["-" * 16 + "county", "co-operate -county", "a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s"]


@pytest.fixture(scope="module")
async def document_id(engine: AsyncEngine) -> int:
    await load_moas(
        engine, plan_moas([str(MOA_DIR / JUPITER)]), Settings(), limits=ReadLimits(ocr=False)
    )
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT min(id) FROM documents"))).scalar_one())


@pytest.fixture
async def http(engine: AsyncEngine, document_id: int) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(response_cache=False, rate_limit_per_second=0), engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_more_page_numbers_than_pages_served_are_refused_before_reading_pages(
    engine: AsyncEngine, document_id: int, count_statements: StatementCounter
) -> None:
    ids = [to_global_id("Document", document_id)] * 3
    for schema in (build_schema(), build_schema(compiled=False)):
        count_statements.statements.clear()
        data, errors = await execute(
            engine, PAGE_TEXT, {"ids": ids, "p": [1] * (MAX_TEXT_PAGES + 1)}, schema=schema
        )
        assert errors, data
        assert {e["message"] for e in errors} == {
            f"pages takes at most {MAX_TEXT_PAGES} items (got {MAX_TEXT_PAGES + 1})"
        }
        assert not [s for s in count_statements.statements if "document_pages" in s]
    # The bound itself is served, in one statement.
    allowed = {"ids": ids, "p": list(range(1, MAX_TEXT_PAGES + 1))}
    await execute(engine, PAGE_TEXT, allowed)
    count_statements.statements.clear()
    data, errors = await execute(engine, PAGE_TEXT, allowed)
    assert errors == []
    assert count_statements.count == 1
    assert data["nodes"][0]["pageText"][0] == {"number": 1}


def test_a_plan_is_charged_for_its_text_values() -> None:
    """A page list (or a search) is bound as text: its length is memory the plan keeps."""
    held = "1," * 30_000
    assert Plan("SELECT 1", (held,) * 62, ("nodes",)).cost >= 62 * len(held)


@pytest.mark.parametrize("search", HOSTILE_SEARCHES)
async def test_a_run_of_exclusions_is_a_client_error_not_a_500(
    http: httpx.AsyncClient, search: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        rest = await http.get("/v1/documents", params={"q": search})
        graphql = await http.post(
            "/graphql",
            json={
                "query": "query($s: String) { documents(search: $s) { edges { node { id } } } }",
                "variables": {"s": search},
            },
        )
    assert rest.status_code == 400, rest.text
    assert rest.headers["content-type"].startswith("application/problem+json")
    assert "`-` in a row" in rest.json()["detail"]
    assert graphql.status_code == 200
    assert [e["message"] for e in graphql.json()["errors"]] == [
        "search has more than 16 `-` in a row"
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("search", FINE_SEARCHES)
async def test_exclusions_and_hyphenated_words_still_search(
    http: httpx.AsyncClient, search: str
) -> None:
    answer = await http.get("/v1/documents", params={"q": search})
    assert answer.status_code == 200, answer.text
