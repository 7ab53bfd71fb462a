"""/openapi.json against what the server really sends, over requests Hypothesis generates
through the real app: every path, declared parameters with good and bad values, other
methods, oversized bodies, conditional requests, compression, and a small rate limit so
429s come too. Each answer's status must be one the operation documents; every header the
document marks required for that status must be there; every header a client acts on
(ETag, Link, RateLimit, RateLimit-Policy, Retry-After, Allow, …) that is sent must be
documented for that status; and the body's media type must be a declared one."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.api.openapi import openapi_document
from open287g.api.v1.routes import ENDPOINTS, Endpoint
from open287g.app import create_app
from open287g.config import Settings
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.web.params import Param
from tests.support.fixtures import ICE_DIR, ICE_FILES

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")

ACTED_ON = (
    "etag",
    "last-modified",
    "cache-control",
    "x-data-version",
    "link",
    "ratelimit",
    "ratelimit-policy",
    "retry-after",
    "allow",
    "vary",
)
seen: Counter[int] = Counter()


@pytest.fixture(scope="module")
async def clients(engine: AsyncEngine) -> AsyncIterator[dict[bool, httpx.AsyncClient]]:
    """Two apps over the same data: one whose rate limit a sample never reaches, and one
    whose bucket is empty after its first request (a drawn share of requests goes there),
    so 429s come whatever the machine's speed. One small limit shared by every request
    made the sample depend on timing: on a fast run 101 of 150 answers were 429 and no 304
    came."""
    await load_sources(engine, plan_sources([str(ICE_FILES[0])]), Settings())
    apps = {
        limited: create_app(
            Settings(
                OPEN287G_RATE_LIMIT_PER_SECOND=0.001 if limited else 10_000,
                OPEN287G_RATE_LIMIT_BURST=1 if limited else 10_000,
                OPEN287G_MAX_BODY_BYTES=1024,
            ),
            engine=engine,
        )
        for limited in (False, True)
    }
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=apps[False]), base_url="http://test"
        ) as free,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=apps[True]), base_url="http://test"
        ) as limited,
    ):
        yield {False: free, True: limited}
    for app in apps.values():
        await app.state.response_cache.aclose()


def _values(param: Param) -> st.SearchStrategy[str]:
    good: st.SearchStrategy[str]
    if param.enum:
        good = st.sampled_from(param.enum)
    elif param.kind == "integer":
        good = st.integers(param.minimum or 0, param.maximum or 1000).map(str)
    elif param.kind == "date":
        good = st.dates().map(lambda d: d.isoformat())
    else:
        good = st.text(max_size=12)
    bad = st.sampled_from(["", "-1", "x", "99999999999999999999", "2025-13-40", "\x00", "é" * 300])
    return st.one_of(good, good, bad)


@st.composite
def requests(
    draw: st.DrawFn,
) -> tuple[Endpoint, str, str, dict[str, str], dict[str, str], bytes, bool]:
    endpoint = draw(st.sampled_from(ENDPOINTS))
    ids = st.sampled_from(["QWdyZWVtZW50OjE", "QWdlbmN5OjE", "SnVyaXNkaWN0aW9uOjE", "nope", "1"])
    path = endpoint.path.replace("{id}", draw(ids))
    params = {
        p.name: draw(_values(p))
        for p in endpoint.params
        if p.required or draw(st.integers(0, 3)) == 0
    }
    method = draw(st.sampled_from(["GET", "GET", "GET", "GET", "HEAD", "POST", "DELETE"]))
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["If-None-Match"] = draw(st.sampled_from(["*", 'W/"1-x"', '"x"']))
    headers["Accept-Encoding"] = draw(st.sampled_from(["identity", "gzip", "br, gzip"]))
    body = b"x" * draw(st.sampled_from([0, 0, 0, 2048]))
    limited = draw(st.integers(0, 9)) == 0  # to the app whose bucket is empty
    return endpoint, method, path, params, headers, body, limited


def _check(endpoint: Endpoint, answer: httpx.Response) -> None:
    operation = openapi_document()["paths"][endpoint.path]["get"]
    status = str(answer.status_code)
    assert status in operation["responses"], (endpoint.path, status, answer.text[:200])
    declared = operation["responses"][status]
    documented = {name.lower(): spec for name, spec in declared.get("headers", {}).items()}
    for name, spec in documented.items():
        if spec.get("required"):
            assert name in answer.headers, (endpoint.path, status, name)
    for name in ACTED_ON:
        if name in answer.headers:
            assert name in documented, (endpoint.path, status, f"{name} sent, not documented")
    kind = answer.headers.get("content-type", "").split(";")[0]
    if answer.status_code == 304 or answer.request.method == "HEAD":
        assert answer.content == b""
    else:
        assert kind in declared.get("content", {}), (endpoint.path, status, kind)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=requests())
async def test_the_server_answers_as_documented(
    clients: dict[bool, httpx.AsyncClient],
    case: tuple[Endpoint, str, str, dict[str, str], dict[str, str], bytes, bool],
) -> None:
    endpoint, method, path, params, headers, body, limited = case
    answer = await clients[limited].request(
        method, path, params=params, headers=headers, content=body
    )
    seen[answer.status_code] += 1
    _check(endpoint, answer)


def test_the_sample_reached_the_documented_statuses() -> None:
    """Runs after the property: the generated sample was not all one kind of answer."""
    assert {200, 304, 400, 405, 413, 429} <= set(seen), seen


def test_every_operation_is_described_and_tagged() -> None:
    document: dict[str, Any] = openapi_document()
    for path, item in document["paths"].items():
        operation = item["get"]
        assert operation["description"].strip(), path
        assert operation["tags"], path
        for status in ("400", "404", "405", "413", "429", "503"):
            assert status in operation["responses"], (path, status)
        assert "Retry-After" in operation["responses"]["503"]["headers"]
        assert "ETag" in operation["responses"]["200"]["headers"]
