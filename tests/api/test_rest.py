"""The REST API through the real ASGI app: sync by pages equals exports equals the
database; a mirror built from the change feed equals a fresh export; conditional GETs;
errors; discovery documents."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from openapi_spec_validator import validate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.api.openapi import openapi_document
from open287g.api.v1.resources import RESOURCES
from open287g.app import create_app
from open287g.config import Settings
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.loaders.policies import load_policy_document
from open287g.loaders.sources import read_path
from tests.support.environment import SHARED_DATA
from tests.support.fixtures import ICE_DIR, ICE_FILES, make_detainers

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")
FIRST_FILES = ICE_FILES[:6]
NEXT_FILES = ICE_FILES[6:10]


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    await load_sources(engine, plan_sources([str(p) for p in FIRST_FILES]), Settings())
    policies = read_path(str(SHARED_DATA / "policies" / "brief-named-states.csv"), 10**6)
    await load_policy_document(engine, policies, Settings())
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def follow(http: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while url:
        response = await http.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["data"]
        link = response.headers.get("link")
        assert (link is None) == (body["next_cursor"] is None)
        url = link.split(";")[0].strip("<>") if link else ""
    return rows


def parse_csv(text_body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text_body)))


def as_csv_cells(row: dict[str, Any]) -> dict[str, str]:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return " ".join(value)
        return str(value)

    return {key: cell(value) for key, value in row.items()}


async def test_pages_equal_the_exports_equal_the_database(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    for name in ("agreements", "agencies", "jurisdictions", "policies", "program-models"):
        paged = await follow(client, f"/v1/{name}?limit=37")
        ndjson = (await client.get(f"/v1/{name}?format=ndjson")).text
        from_ndjson = [orjson.loads(line) for line in ndjson.splitlines()]
        exported = await client.get(f"/v1/{name}?format=csv")
        assert exported.headers["content-disposition"].startswith(
            f'attachment; filename="open287g-{name}-v'
        )
        assert from_ndjson == paged, name
        assert parse_csv(exported.text) == [as_csv_cells(row) for row in paged], name
        assert len({row["id"] for row in paged}) == len(paged)
    assert "notice" not in (await client.get("/v1/agreements?limit=1")).json()
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM agreements"))).scalar_one()
    assert len(await follow(client, "/v1/agreements?limit=1000")) == count


async def test_filters_and_items(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    texas = await follow(client, "/v1/agreements?state=texas&status=ACTIVE&limit=1000")
    async with engine.connect() as conn:
        count = (
            await conn.execute(
                text("SELECT count(*) FROM agreements WHERE state_code='TX' AND status='ACTIVE'")
            )
        ).scalar_one()
    assert len(texas) == count > 0
    item = await client.get(f"/v1/agreements/{texas[0]['id']}")
    # The item is the row plus its MOA document (none loaded here: tests/graphql/test_moa_api.py).
    assert item.json()["data"] == {**texas[0], "document": None}
    agency = await client.get(f"/v1/agencies/{texas[0]['agency_id']}")
    assert agency.json()["data"]["name"] == texas[0]["agency_name"]


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/v1/agreements?bogus=1", 400, "unknown parameter 'bogus'"),
        ("/v1/agreements?limit=1001", 400, "limit must be between 1 and 1000"),
        ("/v1/agreements?limit=ten", 400, "limit must be a whole number"),
        ("/v1/agreements?cursor=abc", 400, "cursor is not one this API issued"),
        ("/v1/agreements?state=Narnia", 400, "unknown state 'Narnia'"),
        (
            "/v1/agreements?status=MAYBE",
            400,
            "status must be one of ACTIVE, PENDING, ENDED, WITHDRAWN, RENAMED",
        ),
        ("/v1/agreements?signed_from=yesterday", 400, "signed_from must be a date"),
        ("/v1/agreements?limit=1&limit=2", 400, "given more than once"),
        ("/v1/agreements/QWdlbmN5OjE", 404, "no Agreement with id"),
        ("/v1/agreements/QWdyZWVtZW50Ojk5OTk5OTk", 404, "no Agreement with id"),
        ("/v1/agreements/%00", 404, "no Agreement with id"),
        ("/v1/stats/agreements", 400, "missing required parameter(s): group_by"),
        ("/v1/stats/agreements?group_by=colour", 400, "group_by takes: state"),
        ("/v1/nothing-here", 404, "No resource at /v1/nothing-here"),
        ("/v1/changes?since=36893488147419103233", 400, "since must be between 0 and"),
        ("/v1/agreements?q=a%00b", 400, "q cannot contain a NUL character"),
    ],
)
async def test_errors_are_problem_documents(
    client: httpx.AsyncClient, path: str, status: int, detail: str
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert response.json()["status"] == status


async def test_stats_match_the_pages(client: httpx.AsyncClient) -> None:
    stats = (await client.get("/v1/stats/agreements?group_by=model,status")).json()["data"]
    rows = await follow(client, "/v1/agreements?limit=1000")
    for stat in stats:
        expected = sum(r["model"] == stat["model"] and r["status"] == stat["status"] for r in rows)
        assert stat["count"] == expected


async def test_agreement_stats_export_as_csv_and_ndjson(client: httpx.AsyncClient) -> None:
    """#22: every statistics endpoint exports (was: format=csv refused)."""
    query = "/v1/stats/agreements?group_by=state,model"
    data = (await client.get(query)).json()["data"]
    assert data
    as_csv = await client.get(query + "&format=csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [{**row, "count": int(row["count"])} for row in parsed] == data
    as_ndjson = await client.get(query + "&format=ndjson")
    assert [orjson.loads(line) for line in as_ndjson.text.splitlines()] == data


async def test_conditional_gets_and_cache_headers(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    first = await client.get("/v1/agencies?limit=5")
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = await client.get("/v1/agencies?limit=5", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    since = await client.get(
        "/v1/agencies?limit=5", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert since.status_code == 304
    other = await client.get("/v1/agencies?limit=6", headers={"If-None-Match": etag})
    assert other.status_code == 200
    cors = await client.get("/v1/agencies?limit=1", headers={"Origin": "https://portal.example"})
    assert cors.headers["access-control-allow-origin"] == "*"


async def test_change_feed_mirror_equals_a_fresh_export(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    mirror: dict[str, dict[str, Any]] = {}

    async def sync(since: int) -> int:
        while True:
            body = (await client.get(f"/v1/changes?since={since}&limit=250")).json()
            for change in body["data"]:
                if change["entity"] != "agreement":
                    continue
                if change["op"] == "DELETE":
                    mirror.pop(change["id"], None)
                else:
                    mirror[change["id"]] = change["record"]
            since = body["next_since"]
            if not body["has_more"]:
                return since

    token = await sync(0)
    assert list(mirror.values()) != []
    before = (await client.get("/v1/agencies?limit=5")).headers["etag"]
    await load_sources(engine, plan_sources([str(p) for p in NEXT_FILES]), Settings())
    assert (await client.get("/v1/agencies?limit=5")).headers["etag"] != before
    await sync(token)
    export = [
        orjson.loads(line)
        for line in (await client.get("/v1/agreements?format=ndjson")).text.splitlines()
    ]
    assert {row["id"]: row for row in export} == mirror
    assert any(row["status"] in ("ENDED", "RENAMED") for row in export)


async def test_changes_older_than_history_are_gone(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM changes WHERE seq <= 10"))
    response = await client.get("/v1/changes?since=3")
    assert response.status_code == 410
    assert "full export" in response.json()["detail"]
    assert (await client.get("/v1/changes?since=10")).status_code == 200


def test_openapi_document_is_valid_and_complete() -> None:
    document = openapi_document()
    validate(document)
    for name in RESOURCES:
        assert f"/v1/{name}" in document["paths"]
        assert f"/v1/{name}/{{id}}" in document["paths"]


async def test_discovery_documents(client: httpx.AsyncClient) -> None:
    catalog = (await client.get("/data.json")).json()
    assert catalog["conformsTo"] == "https://project-open-data.cio.gov/v1.1/schema"
    required = (
        "title",
        "description",
        "keyword",
        "modified",
        "publisher",
        "contactPoint",
        "identifier",
        "accessLevel",
    )
    assert {d["identifier"].split("#")[1] for d in catalog["dataset"]} == {"ice-287g", "policies"}
    for dataset in catalog["dataset"]:
        assert all(dataset.get(field) for field in required), dataset
        formats = {d.get("mediaType") or d.get("format") for d in dataset["distribution"]}
        assert {"text/csv", "application/x-ndjson", "API"} <= formats
    package = (await client.get("/datapackage.json")).json()
    agreement_fields = next(r for r in package["resources"] if r["name"] == "agreements")
    assert [f["name"] for f in agreement_fields["schema"]["fields"]][:3] == [
        "id",
        "agency_id",
        "agency_name",
    ]
    docs = await client.get("/docs")
    assert "/v1/agreements" in docs.text
    atom = await client.get("/v1/changes.atom")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    metrics = (await client.get("/metrics")).text
    assert 'open287g_source_files{dataset="ice-287g"}' in metrics


async def test_detainer_stats_export_matches_json_and_is_rounded(
    client: httpx.AsyncClient, engine: AsyncEngine, tmp_path: Path
) -> None:
    release = make_detainers(tmp_path / "d.csv", rows=4000, fmt="csv")
    await load_detainer_source(engine, str(release), Settings(), is_synthetic=True)
    query = "/v1/stats/detainers?group_by=state,citizenship,outcome"
    as_json = (await client.get(query)).json()["data"]
    exported = parse_csv((await client.get(query + "&format=csv")).text)
    ndjson = (await client.get(query + "&format=ndjson")).text.splitlines()
    assert len(exported) == len(as_json) == len(ndjson) > 100
    assert [orjson.loads(line) for line in ndjson] == as_json
    assert [as_csv_cells(row) for row in as_json] == [
        {**row, "decline_rate": row["decline_rate"] and str(float(row["decline_rate"]))}
        for row in exported
    ]
    # A breakdown by citizenship is rounded (docs/disclosure.md); a margin (state ×
    # outcome) below OPEN287G_MIN_MARGIN is withheld: one row, its citizenship and counts
    # null, marked suppressed.
    assert all(row["rounded"] for row in as_json)
    shown = [row for row in as_json if not row["suppressed"]]
    withheld = [row for row in as_json if row["suppressed"]]
    assert shown
    assert withheld
    assert all(row["issued"] >= 5 and row["issued"] % 5 == 0 for row in shown)
    assert all(row["citizenship"] is None and row["issued"] is None for row in withheld)
