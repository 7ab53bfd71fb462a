"""MOA documents through GraphQL: agreement → document → signatory, full-text search on
the right page, officials from documents beside the officials CSV (issue 13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.graphql.context import Context
from open287g.graphql.errors import MaskedSchema
from open287g.graphql.schema import build_schema, schema
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.moas.load import load_moas, plan_moas
from open287g.loaders.moas.read import ReadLimits
from open287g.loaders.officials import OFFICIALS
from open287g.loaders.sources import SourceDocument
from tests.support.database import StatementCounter
from tests.support.fixtures import FREEBORN, JUPITER, MOA_BASE, two_moa_agreements_xlsx, write
from tests.support.moas import MOA_DIR


@pytest.fixture(scope="module")
async def loaded(engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("moa_api")
    sheet = write(folder, "participatingAgencies04012025am.xlsx", two_moa_agreements_xlsx())
    await load_sources(engine, plan_sources([str(sheet)]), Settings())
    officials = (
        "state,agency,name,title,term_start\n"
        "FL,Jupiter Police Department,Daniel Kerr,Chief of Police,2012-01-01\n"
    )
    await OFFICIALS.load(engine, SourceDocument(name="officials.csv", data=officials.encode()))
    sources = [str(MOA_DIR / JUPITER), str(MOA_DIR / FREEBORN)]
    await load_moas(engine, plan_moas(sources), Settings(), limits=ReadLimits(ocr=False))


async def run(engine: AsyncEngine, query: str, on: MaskedSchema = schema) -> dict[str, Any]:
    result = await on.execute(query, context_value=Context(engine, Settings()))
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
    assert document["url"] == MOA_BASE + JUPITER
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
    assert document["agreements"] == [{"moaUrl": MOA_BASE + JUPITER}]


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
    assert signer["source"]["url"] == MOA_BASE + JUPITER
    assert signer["source"]["page"] == 9
    assert len(signer["source"]["sha256"]) == 64
    assert older["source"] == {"kind": "CSV", "url": None, "sha256": None, "page": None}


def test_truth_sample_is_in_the_repository() -> None:
    """The checked sample holds values only (no PDF is copied into the project)."""
    data = Path(__file__).parents[1] / "data"
    assert not list(data.glob("*.pdf"))
    assert (data / "moa_truth.csv").stat().st_size < 200_000


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


async def test_rest_agreement_item_links_its_document(engine: AsyncEngine, loaded: None) -> None:
    """/v1/agreements/{id} carries the document as /v1/documents/{id} does; collection
    rows and exports keep their columns (the link is the documents' `agreement_ids`)."""
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        rows = {r["agency_name"]: r for r in (await client.get("/v1/agreements")).json()["data"]}
        assert all("document" not in row for row in rows.values())
        jupiter = await client.get(f"/v1/agreements/{rows['Jupiter Police Department']['id']}")
        assert jupiter.status_code == 200, jupiter.text
        item = jupiter.json()["data"]
        document = item.pop("document")
        assert item == rows["Jupiter Police Department"]
        assert document["url"] == MOA_BASE + JUPITER
        assert document["pages"] == 14
        assert document["agency_signatory_name"] == "Michael Barbera"
        assert document["agency_signatory_title"] == "Chief of Police"
        assert document["ice_signatory_name"] == "Todd M. Lyons"
        assert "Michael Barbera" in document["points_of_contact"]
        assert document["agreement_ids"] == [item["id"]]
        same = (await client.get(f"/v1/documents/{document['id']}")).json()["data"]
        assert same == document
        freeborn = rows["Freeborn County Sheriff's Office"]["id"]
        other = (await client.get(f"/v1/agreements/{freeborn}")).json()["data"]["document"]
        assert other["agency_signatory_name"] == "Ryan Shea"
        assert other["sha256"] != document["sha256"]
        openapi = (await client.get("/openapi.json")).json()
        item_schema = openapi["paths"]["/v1/agreements/{id}"]["get"]["responses"]["200"]
        ref = item_schema["content"]["application/json"]["schema"]["properties"]["data"]["$ref"]
        assert ref.endswith("/AgreementItem")
        assert "document" in openapi["components"]["schemas"]["AgreementItem"]["properties"]
        assert "document" not in openapi["components"]["schemas"]["AgreementRow"]["properties"]


async def test_signing_date_disagreements_in_the_quality_report(
    engine: AsyncEngine, loaded: None
) -> None:
    """The list says Jupiter signed 2025-03-20, its MOA says 2025-03-25: one flag, in
    both APIs, pointing at the PDF it was read from; Freeborn agrees and is not flagged."""
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/v1/quality", params={"kind": "MOA_DATE_DISAGREES"})
        assert response.status_code == 200, response.text
        report = response.json()["data"]
        assert [(c["kind"], c["count"]) for c in report["counts"]] == [("MOA_DATE_DISAGREES", 1)]
        (flag,) = report["flags"]
        assert flag["agency_name"] == "Jupiter Police Department"
        assert flag["value"] == "2025-03-25"
        assert "2025-03-20" in flag["detail"]
        assert "5 days apart" in flag["detail"]
        assert JUPITER in flag["detail"]
        dataset = (await client.get(f"/v1/datasets/{flag['dataset_id']}")).json()["data"]
        assert dataset["name"] == JUPITER
        everything = (await client.get("/v1/quality")).json()["data"]
        counts = {c["kind"]: c["count"] for c in everything["counts"]}
        assert counts["MOA_DATE_DISAGREES"] == 1
    data = await run(
        engine,
        """{ dataQuality { flagCounts { kind count }
             flags(kinds: [MOA_DATE_DISAGREES]) { kind value detail agreement { id } } } }""",
    )
    quality = data["dataQuality"]
    assert {"kind": "MOA_DATE_DISAGREES", "count": 1} in quality["flagCounts"]
    (graph_flag,) = quality["flags"]
    assert graph_flag["agreement"]["id"] == flag["agreement_id"]
    assert (graph_flag["value"], graph_flag["detail"]) == (flag["value"], flag["detail"])


async def test_blank_document_search_is_no_search(engine: AsyncEngine, loaded: None) -> None:
    """`q` made of whitespace (`%1E`, spaces) is valid by the OpenAPI document, so it is
    answered like no `q` (every document), never 400 "search must not be blank"."""
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        everything = (await client.get("/v1/documents")).json()["data"]
        for blank in ("\x1e", "   ", "\t"):
            response = await client.get("/v1/documents", params={"q": blank})
            assert response.status_code == 200, (blank, response.text)
            assert response.json()["data"] == everything


COMPILED_DOCUMENT_QUERIES = [
    (
        """{ agreements(first: 5) { edges { node { moaUrl document { id url sha256 bytes pages
             fileName fetchedAt status reason textMethod signedOn programModel match { page }
             agencySignatory { name title agency signedOn page }
             iceSignatory { name title agency signedOn page }
             pointsOfContact evidence { field value page method confidence reason }
             agreements { id moaUrl } } } } } }""",
        "Michael Barbera",
    ),
    (
        """{ documents(search: "\\"Military Trail\\"") { pageInfo { hasNextPage endCursor }
             edges { cursor node { id fileName match { page rank snippet } } } } }""",
        "«Military»",
    ),
    (
        """{ documents(first: 1) { pageInfo { hasNextPage endCursor } edges { cursor node {
             __typename sha256 agencySignatory { name } } } } }""",
        '"__typename":"Document"',
    ),
    (
        """{ documents(search: "Barbera", first: 2) { edges { node {
             nine: pageText(pages: [9, 1000]) { number method engine confidence reason text }
             none: pageText(pages: []) { number }
             all: pageText { __typename number confidence } } } } }""",
        "Michael Barbera",
    ),
]


@pytest.mark.parametrize(("query", "shown"), COMPILED_DOCUMENT_QUERIES)
async def test_documents_compile_to_one_statement(
    engine: AsyncEngine,
    loaded: None,
    count_statements: StatementCounter,
    query: str,
    shown: str,
) -> None:
    """Agreement.document, documents (listed or searched) and their signatories, evidence,
    agreements and page text are declared: one statement, the same answer as the
    fallback resolvers."""
    compiled = build_schema()
    await run(engine, query, on=compiled)  # new connections' setup: not counted
    count_statements.statements.clear()
    answer = await run(engine, query, on=compiled)
    assert count_statements.count == 1, count_statements.statements
    assert answer == await run(engine, query, on=build_schema(compiled=False))
    assert shown in orjson.dumps(answer).decode()


async def test_documents_mirror_like_every_collection(engine: AsyncEngine, loaded: None) -> None:
    """Change-feed entries for documents carry the record, and an id /v1/documents/{id}
    answers (they were `record: null` and `document:35`, a 404); the records equal the
    export; /datapackage.json and /data.json list the documents (#23)."""
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        entries, since = [], 0
        while True:
            page = (await client.get("/v1/changes", params={"since": since})).json()
            entries += [e for e in page["data"] if e["entity"] == "document"]
            since = page["next_since"]
            if not page["has_more"]:
                break
        exported = (await client.get("/v1/documents", params={"format": "ndjson"})).text
        export = {row["id"]: row for row in map(orjson.loads, exported.splitlines())}
        assert entries
        mirror = {}
        for entry in entries:
            assert entry["op"] == "UPSERT"
            assert entry["record"] is not None
            assert entry["record"]["id"] == entry["id"]
            item = await client.get(f"/v1/documents/{entry['id']}")
            assert item.status_code == 200, item.text
            mirror[entry["id"]] = entry["record"]
        assert mirror == export
        package = (await client.get("/datapackage.json")).json()
        (resource,) = [r for r in package["resources"] if r["name"] == "documents"]
        assert resource["path"] == "v1/documents?format=csv"
        exported_csv = (await client.get("/v1/documents", params={"format": "csv"})).text
        header = exported_csv.splitlines()[0].split(",")
        assert [field["name"] for field in resource["schema"]["fields"]] == header
        catalog = (await client.get("/data.json")).json()
        titles = {d["title"]: d for d in catalog["dataset"]}
        moas = titles["287(g) memoranda of agreement (MOA documents)"]
        urls = {d.get("downloadURL") for d in moas["distribution"]}
        assert "http://127.0.0.1:8000/v1/documents?format=csv" in urls
