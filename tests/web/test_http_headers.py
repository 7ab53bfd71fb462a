"""Headers that must be right on every answer, whatever answered it (route, cache hit,
preflight, a limit): the CORS matrix and the security headers."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Message, Receive, Scope, Send

from open287g.config import Settings
from open287g.web.headers import API_CSP, HTML_CSP, ResponseHeaders
from tests.support.fixtures import app_client

ORIGIN = "https://portal.example"
PATHS = [  # {n}: each case its own cache entry, so "uncached" really is
    "/v1/agreements?limit={n}&state=FL",
    "/v1/jurisdictions?limit={n}",
    "/graphql?query=%7Bm{n}%3AprogramModels%7Bcode%7D%7D",
]


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(engine, Settings(rate_limit_per_second=0)) as http:
        yield http


def assert_cors(response: httpx.Response) -> None:
    assert response.headers["access-control-allow-origin"] == "*", response.headers
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "last-modified", "ratelimit", "retry-after"} <= exposed


def assert_security(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "first_with_origin"), list(itertools.product(PATHS, [False, True]))
)
async def test_cors_matrix(client: httpx.AsyncClient, path: str, first_with_origin: bool) -> None:
    """With and without Origin, uncached then cached, REST and GraphQL GET: the answer a
    browser gets always allows it (the old cache replayed an Origin-less answer)."""
    path = path.format(n=7 if first_with_origin else 8)
    origins = [ORIGIN, None] if first_with_origin else [None, ORIGIN]
    answers = []
    for origin in [*origins, *origins]:
        headers = {"Origin": origin} if origin else {}
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert_cors(response)
        assert_security(response)
        answers.append(response)
    assert "x-cache" not in answers[0].headers
    assert all(r.headers.get("x-cache") == "HIT" for r in answers[1:])
    assert len({r.content for r in answers}) == 1
    assert "origin" not in answers[0].headers.get("vary", "").lower()  # one copy for all


async def test_cache_hit_after_an_origin_less_request_still_allows_the_browser(
    client: httpx.AsyncClient,
) -> None:
    """Issue 9.3 exactly: without Origin first, then with it, the HIT carries CORS."""
    path = "/v1/agreements?limit=7&state=FL&status=ACTIVE"
    await client.get(path)
    hit = await client.get(path, headers={"Origin": ORIGIN})
    assert hit.headers["x-cache"] == "HIT"
    assert hit.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path", ["/v1/agreements", "/graphql", "/v1/stats/agreements"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_preflight(client: httpx.AsyncClient, path: str, method: str) -> None:
    response = await client.options(
        path,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type, if-none-match",
        },
    )
    assert response.status_code == 204
    assert_cors(response)
    assert_security(response)
    assert method in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed
    assert "if-none-match" in allowed
    assert int(response.headers["access-control-max-age"]) > 0


async def test_options_without_preflight_headers_is_405_with_allow(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/v1/agreements")
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert_cors(response)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/agreements?limit=0", 400),
        ("/no/such/path", 404),
        ("/v1/agreements/Agreement:999999", 404),
        ("/openapi.json", 200),
        ("/data.json", 200),
        ("/healthz", 200),
        ("/metrics", 200),
    ],
)
async def test_security_and_cors_headers_on_every_answer(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert_security(response)
    assert_cors(response)
    assert "default-src 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/docs", "/graphql"])
async def test_html_pages_get_a_same_origin_csp(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp or "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "*" not in csp.replace("'*'", "")  # no wildcard sources
    assert_security(response)


@pytest.mark.parametrize(
    ("sent", "csp"),
    [
        ([(b"content-type", b"application/json")], API_CSP),
        ([(b"content-type", b"text/html; charset=utf-8")], HTML_CSP),
        (
            [
                (b"Content-Type", b"text/html"),
                (b"Content-Security-Policy", b"script-src 'sha256-x'"),
            ],
            b"script-src 'sha256-x'",
        ),
    ],
)
async def test_ours_replace_the_apps_and_a_page_keeps_its_own_csp(
    sent: list[tuple[bytes, bytes]], csp: bytes
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"access-control-allow-origin", b"https://evil.example"), *sent]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    answered: list[Message] = []

    async def send(message: Message) -> None:
        answered.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": []}
    await ResponseHeaders(app)(scope, receive, send)
    headers = answered[0]["headers"]
    assert [v for k, v in headers if k == b"access-control-allow-origin"] == [b"*"]
    assert [v for k, v in headers if k.lower() == b"content-security-policy"] == [csp]
    assert (b"x-frame-options", b"DENY") in headers
    assert all(pair in headers for pair in sent)
