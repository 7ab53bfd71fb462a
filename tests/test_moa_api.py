"""MOA documents through GraphQL: agreement → document → signatory, full-text search on
the right page, officials from documents beside the officials CSV (issue 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.api.app import create_app
from open287g.config import Settings
from open287g.graphql.context import Context
from open287g.graphql.schema import schema
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.moas.load import load_moas, plan_moas
from open287g.loaders.moas.read import ReadLimits
from open287g.loaders.officials import load_officials_document
from open287g.loaders.sources import SourceDocument
from tests.fixtures import Link, ice_xlsx, write
from tests.test_moas import FREEBORN, JUPITER, MOA_DIR

BASE = "https://www.ice.gov/doclib/287gMOA/"


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("moa_api")
    rows = [
        ("FLORIDA", "Jupiter Police Department", "Municipality", "Palm Beach",
         "Task Force Model", dt.datetime(2025, 3, 25), Link("link", BASE + JUPITER)),
        ("MINNESOTA", "Freeborn County Sheriff's Office", "County", "Freeborn",
         "Warrant Service Officer", dt.datetime(2025, 3, 26), Link("link", BASE + FREEBORN)),
    ]  # fmt: skip
    sheet = write(folder, "participatingAgencies04012025am.xlsx", ice_xlsx(rows))
    await load_sources(engine, plan_sources([str(sheet)]), Settings())
    officials = (
        "state,agency,name,title,term_start\n"
        "FL,Jupiter Police Department,Daniel Kerr,Chief of Police,2012-01-01\n"
    )
    await load_officials_document(
        engine, SourceDocument(name="officials.csv", data=officials.encode())
    )
    sources = [str(MOA_DIR / JUPITER), str(MOA_DIR / FREEBORN)]
    await load_moas(engine, plan_moas(sources), Settings(), limits=ReadLimits(ocr=False))


async def run(engine: AsyncEngine, query: str) -> dict[str, Any]:
    result = await schema.execute(query, context_value=Context(engine, Settings()))
    assert result.errors is None, result.errors
    data: dict[str, Any] = orjson.loads(orjson.dumps(result.data))
    return data


async def test_agreement_to_document_to_signatory(engine: AsyncEngine, loaded: None) -> None:
    data = await run(
        engine,
        """{ agreements(first: 5, filter: {state: "FL"}) { edges { node { moaUrl
             document { url sha256 pages signedOn textMethod programModel
               agencySignatory { name title signedOn page }
               iceSignatory { name title signedOn page }
               pointsOfContact agreements { moaUrl } } } } } }""",
    )
    (edge,) = data["agreements"]["edges"]
    document = edge["node"]["document"]
    assert document["url"] == BASE + JUPITER
    assert document["pages"] == 14
    assert document["signedOn"] == "2025-03-25"
    assert document["programModel"] == "TASK_FORCE"
    assert document["agencySignatory"] == {
        "name": "Michael Barbera",
        "title": "Chief of Police",
        "signedOn": "2025-03-24",
        "page": 9,
    }
    assert document["iceSignatory"]["name"] == "Todd M. Lyons"
    assert "Michael Barbera" in document["pointsOfContact"]
    assert document["agreements"] == [{"moaUrl": BASE + JUPITER}]


async def test_search_finds_a_phrase_on_its_page(engine: AsyncEngine, loaded: None) -> None:
    data = await run(
        engine,
        """{ documents(search: "\\"Military Trail\\"") { edges { node {
             fileName match { page snippet } } } } }""",
    )
    (edge,) = data["documents"]["edges"]
    assert edge["node"]["fileName"] == JUPITER
    assert edge["node"]["match"]["page"] == 10
    assert "«Military»" in edge["node"]["match"]["snippet"]
    everything = await run(engine, "{ documents(first: 10) { edges { node { fileName } } } }")
    assert len(everything["documents"]["edges"]) == 2


async def test_text_only_when_asked_and_charged(engine: AsyncEngine, loaded: None) -> None:
    data = await run(
        engine,
        """{ documents(search: "Barbera", first: 1) { edges { node {
             pageText(pages: [9]) { number method engine text } } } } }""",
    )
    (page,) = data["documents"]["edges"][0]["node"]["pageText"]
    assert page["number"] == 9
    assert page["method"] == "text-layer"
    assert "Michael Barbera" in page["text"]
    result = await schema.execute(
        "{ documents(first: 100) { edges { node { pageText { text } } } } }",
        context_value=Context(engine, Settings()),
    )
    assert result.errors
    assert "too expensive" in result.errors[0].message


async def test_officials_from_documents_beside_the_csv(engine: AsyncEngine, loaded: None) -> None:
    data = await run(
        engine,
        """{ agencies(filter: {state: "FL"}) { edges { node { name officials {
             name title evidenceOn termStart isCurrent source { kind url sha256 page } } } } } }""",
    )
    (edge,) = data["agencies"]["edges"]
    officials = edge["node"]["officials"]
    assert [o["name"] for o in officials] == ["Michael Barbera", "Daniel Kerr"]
    signer, older = officials
    assert signer["isCurrent"] is True
    assert older["isCurrent"] is False
    assert signer["evidenceOn"] == "2025-03-25"
    assert signer["source"]["kind"] == "DOCUMENT"
    assert signer["source"]["url"] == BASE + JUPITER
    assert signer["source"]["page"] == 9
    assert len(signer["source"]["sha256"]) == 64
    assert older["source"] == {"kind": "CSV", "url": None, "sha256": None, "page": None}


def test_truth_sample_is_in_the_repository() -> None:
    """The checked sample holds values only (no PDF is copied into the project)."""
    data = Path(__file__).parent / "data"
    assert not list(data.glob("*.pdf"))
    assert (data / "moa_truth.csv").stat().st_size < 20_000


async def test_rest_documents_search_item_and_text(engine: AsyncEngine, loaded: None) -> None:
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        listed = (await client.get("/v1/documents")).json()
        assert {row["file_name"] for row in listed["data"]} == {JUPITER, FREEBORN}
        assert all("text" not in row for row in listed["data"])  # text only when asked
        found = (await client.get("/v1/documents", params={"q": "Barbera Chief"})).json()
        (row,) = found["data"]
        assert row["agency_signatory_name"] == "Michael Barbera"
        assert row["ice_signatory_signed_on"] == "2025-03-25"
        assert row["match_page"] in (9, 10)
        assert "«Barbera»" in row["snippet"]
        item_response = await client.get(f"/v1/documents/{row['id']}")
        assert item_response.status_code == 200, item_response.text
        item = item_response.json()["data"]
        assert item["sha256"] == row["sha256"]
        assert item["pages"] == 14
        text = (await client.get(f"/v1/documents/{row['id']}/text")).json()["data"]
        assert [p["number"] for p in text["pages"]] == list(range(1, 15))
        assert "Military Trail" in text["pages"][9]["text"]
        csv = await client.get("/v1/documents", params={"format": "csv"})
        assert csv.status_code == 200
        assert JUPITER in csv.text
        missing = await client.get("/v1/documents/QWdyZWVtZW50OjE/text")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")


async def test_node_finds_a_document(engine: AsyncEngine, loaded: None) -> None:
    data = await run(engine, "{ documents(first: 1) { edges { node { id sha256 } } } }")
    node = data["documents"]["edges"][0]["node"]
    found = await run(engine, f'{{ node(id: "{node["id"]}") {{ ... on Document {{ sha256 }} }} }}')
    assert found["node"] == {"sha256": node["sha256"]}
