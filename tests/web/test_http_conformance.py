"""HTTP conformance through the real app: 405 with Allow, empty form values, documented
answers for bad input, validators (ETag, Last-Modified, Cache-Control, 304) on every data
endpoint, and bounded /metrics labels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import Route
from starlette.types import Scope

from open287g.api.openapi import openapi_document
from open287g.config import Settings
from open287g.web import middleware
from open287g.web.middleware import RouteLabels, route_label
from tests.support.fixtures import app_client

GRAPHQL_GET = "/graphql?query=" + quote("{ programModels { code } }")


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(engine, Settings(rate_limit_per_second=0)) as http:
        yield http


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/v1/agreements", "GET, HEAD"),
        ("DELETE", "/v1/agreements/Agreement:1", "GET, HEAD"),
        ("PUT", "/graphql", "GET, HEAD, POST"),
        ("POST", "/data.json", "GET, HEAD"),
        ("PATCH", "/v1/changes.atom", "GET, HEAD"),
    ],
)
async def test_405_says_what_is_allowed(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == set(allow.split(", "))
    assert response.headers["content-type"] == "application/problem+json"


async def test_empty_filters_mean_no_filter(client: httpx.AsyncClient) -> None:
    """An HTML form sends `state=` for a blank field: the same as no state (it was a 400
    while the OpenAPI document allowed it)."""
    blank = await client.get("/v1/jurisdictions?state=&kind=&q=&limit=&cursor=&format=")
    plain = await client.get("/v1/jurisdictions")
    assert blank.status_code == 200, blank.text
    assert blank.json()["data"] == plain.json()["data"]
    stats = await client.get("/v1/stats/agreements?group_by=state&state=&signed_from=")
    assert stats.status_code == 200, stats.text
    required = await client.get("/v1/stats/agreements?group_by=")
    assert required.status_code == 400


def test_openapi_declares_empty_values_and_every_error_answer() -> None:
    for path, item in openapi_document()["paths"].items():
        operation = item["get"]
        for param in operation["parameters"]:
            if param["in"] == "query":
                assert param.get("allowEmptyValue", False) is (not param["required"]), path
        responses = operation["responses"]
        for status in ("400", "429"):
            assert "application/problem+json" in responses[status]["content"], (path, status)
        assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(responses["429"]["headers"])


@pytest.mark.parametrize(
    "path",
    [
        "/v1/agreements?cursor=%00",
        "/v1/agreements?cursor=abc%00def",
        "/v1/changes?since=%00",
        "/v1/agreements/Agreement:%00",
    ],
)
async def test_nul_bytes_get_a_documented_answer(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    documented = openapi_document()["paths"]
    template = "/v1/agreements/{id}" if "Agreement:" in path else path.split("?")[0]
    assert str(response.status_code) in documented[template]["get"]["responses"]
    assert response.status_code in (400, 404)
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [GRAPHQL_GET, "/data.json", "/datapackage.json", "/v1/changes.atom", "/v1/agreements"],
)
async def test_validators_and_conditional_gets(client: httpx.AsyncClient, path: str) -> None:
    first = await client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    assert "x-data-version" in first.headers
    second = await client.get(path)  # a cache hit where the path is cached
    assert second.headers["etag"] == etag
    by_tag = await client.get(path, headers={"If-None-Match": etag})
    assert by_tag.status_code == 304
    assert by_tag.content == b""
    assert by_tag.headers["etag"] == etag
    other = await client.get(path, headers={"If-None-Match": 'W/"0-other"'})
    assert other.status_code == 200


async def test_last_modified_answers_if_modified_since(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    from tests.support.fixtures import add_policy

    await add_policy(engine, "WY")  # a load: the data version gets a modification time
    for path in (GRAPHQL_GET, "/data.json", "/datapackage.json", "/v1/changes.atom"):
        first = await client.get(path)
        modified = first.headers["last-modified"]
        since = await client.get(path, headers={"If-Modified-Since": modified})
        assert since.status_code == 304, path


async def test_graphql_etag_changes_with_the_request_and_the_data(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    from tests.support.fixtures import add_policy

    one = (await client.get(GRAPHQL_GET)).headers["etag"]
    other = await client.get("/graphql?query=" + quote("{ programModels { name } }"))
    assert other.headers["etag"] != one
    await add_policy(engine, "VT")
    assert (await client.get(GRAPHQL_GET)).headers["etag"] != one
    post = await client.post("/graphql", json={"query": "{ programModels { code } }"})
    assert "etag" not in post.headers  # POST is not a cacheable read


async def test_metrics_labels_are_route_templates(client: httpx.AsyncClient) -> None:
    for i in range(20):
        await client.get(f"/random-{i}")
    await client.get("/%01%02evil%0a")
    await client.get("/v1/agreements/Agreement:1")
    await client.get("/v1/agreements/Agreement:2")
    await client.post("/v1/agreements")
    text = (await client.get("/metrics")).text
    lines = [line for line in text.splitlines() if line.startswith("open287g_http_requests")]
    routes = {line.split('route="')[1].split('"')[0] for line in lines}
    assert "unmatched" in routes
    assert "/v1/agreements/{id}" in routes
    assert not any("random" in route for route in routes)
    assert all(route == "unmatched" or route.startswith("/") for route in routes)
    assert all(ch.isprintable() for ch in text.replace("\n", ""))
    unmatched = [line for line in lines if 'route="unmatched",status="404"' in line]
    assert unmatched
    assert int(unmatched[0].rsplit(" ", 1)[1]) >= 21


async def _nothing(scope: Scope, receive: object, send: object) -> None:
    return None


ROUTES = [Route("/healthz", _nothing), Route("/v1/agreements/{id}", _nothing, methods=["GET"])]


def http_scope(path: str, method: str = "GET") -> Scope:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/healthz", "GET"),
        ("/v1/agreements/Agreement:1", "GET"),
        ("/v1/agreements/x", "POST"),
        ("/nowhere", "GET"),
        ("/%01evil", "GET"),
    ],
)
def test_remembered_labels_are_the_matched_ones(path: str, method: str) -> None:
    """A cache hit is answered before routing: its label is remembered per path, and must
    be the one matching every route would give."""
    labels = RouteLabels(ROUTES)
    for _ in range(2):  # computed, then remembered
        assert labels(http_scope(path, method)) == route_label(http_scope(path, method), ROUTES)
    assert labels(http_scope("/v1/agreements/1")) == "/v1/agreements/{id}"
    assert labels(http_scope("/x")) == "unmatched"


def test_remembered_labels_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(middleware, "MAX_REMEMBERED_PATHS", 10)
    labels = RouteLabels(ROUTES)
    for i in range(35):
        assert labels(http_scope(f"/random-{i}")) == "unmatched"
        assert len(labels.by_path) <= 10


async def test_graphiql_page_and_api_answer_never_share_a_cache_entry(
    client: httpx.AsyncClient,
) -> None:
    """GET /graphql?query=… is GraphiQL for a browser and JSON for an API client: neither
    may be replayed to the other, and the JSON answer says it varies on Accept."""
    path = "/graphql?query=" + quote("{ a1: programModels { code } }")
    for _ in range(2):
        page = await client.get(path, headers={"Accept": "text/html"})
        assert page.status_code in (200, 303)  # the page, or a redirect to it
        assert not page.headers.get("content-type", "").startswith("application/json")
        assert "etag" not in page.headers
        assert "x-cache" not in page.headers
        data = await client.get(path, headers={"Accept": "application/json"})
        assert data.headers["content-type"].startswith("application/json")
        assert data.json()["data"]["a1"]
        assert "accept" in data.headers["vary"].lower()
