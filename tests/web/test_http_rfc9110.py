"""RFC 9110 through the real app: `If-None-Match` with weak comparison and `*` (§13.1.2),
on fresh answers, cache hits and shipped files; content codings negotiated from
`Accept-Encoding` (§12.5.3) with `Vary`, validators unchanged by the coding, cached
compressed bodies replayed without compressing again, small bodies and HEAD left alone."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import brotli
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.loaders.ice287g.load import load_sources, plan_sources
from open287g.web import compression
from open287g.web.compression import _parse
from tests.support.fixtures import ICE_DIR, ICE_FILES

GRAPHQL_GET = "/graphql?query=" + quote(
    "{ agreements(first: 50) { edges { node { id status signedRaw firstSeen } } } }"
)
DATA_PATHS = [
    "/v1/agreements",
    "/v1/program-models",
    GRAPHQL_GET,
    "/data.json",
    "/datapackage.json",
    "/v1/changes.atom",
    "/",
]
IDENTITY = {"Accept-Encoding": "identity"}

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    await load_sources(engine, plan_sources([str(ICE_FILES[0])]), Settings())  # real rows
    app = create_app(Settings(rate_limit_per_second=0), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    await app.state.response_cache.aclose()


@dataclass
class Raw:
    """An answer with its body as sent (not decoded)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


async def _raw(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Raw:
    async with client.stream("GET", path, headers=headers) as answer:
        raw = b"".join([chunk async for chunk in answer.aiter_raw()])
    return Raw(answer.status_code, answer.headers, raw)


# --- If-None-Match (RFC 9110 §13.1.2, §8.8.3.2) -------------------------------------------


def _strong(etag: str) -> str:
    return etag.removeprefix("W/")


@pytest.mark.parametrize("path", DATA_PATHS)
@pytest.mark.parametrize("hit", [False, True], ids=["fresh", "second"])
async def test_if_none_match_uses_weak_comparison(
    client: httpx.AsyncClient, path: str, hit: bool
) -> None:
    """§13.1.2: "A recipient MUST use the weak comparison function when comparing entity
    tags for If-None-Match": the strong form of our weak tag, the weak tag, the tag in a
    list, and `*` are all 304; another tag, or a malformed header, is a 200."""
    etag = (await client.get(path, headers=IDENTITY)).headers["etag"]
    if hit:
        await client.get(path, headers=IDENTITY)  # the second: a hit where paths are cached
    for header in (etag, _strong(etag), f'"nope", {_strong(etag)}', f'W/"x" ,{etag}', "*"):
        answer = await client.get(path, headers={**IDENTITY, "If-None-Match": header})
        assert answer.status_code == 304, (path, header)
        assert answer.content == b""
        assert answer.headers["etag"] == etag
        assert "content-encoding" not in answer.headers
    for header in ('W/"0-other"', '"0-other"', _strong(etag)[1:-1], ""):
        answer = await client.get(path, headers={**IDENTITY, "If-None-Match": header})
        assert answer.status_code == 200, (path, header)


async def test_if_none_match_wins_over_if_modified_since(client: httpx.AsyncClient) -> None:
    """§13.2.2: when If-None-Match is present, If-Modified-Since is not evaluated."""
    first = await client.get("/data.json")
    headers = {"If-None-Match": '"someone-else"'}
    if "last-modified" in first.headers:
        headers["If-Modified-Since"] = first.headers["last-modified"]
    assert (await client.get("/data.json", headers=headers)).status_code == 200


async def test_shipped_files_compare_weakly_too(client: httpx.AsyncClient) -> None:
    home = (await client.get("/", headers=IDENTITY)).text
    start = home.index("/static/pages/site.css")
    url = home[start : home.index('"', start)]
    plain = await client.get(url, headers=IDENTITY)
    etag = plain.headers["etag"]
    assert not etag.startswith("W/")  # identical bytes: a strong tag
    packed = await client.get(url, headers={"Accept-Encoding": "gzip"})
    if packed.headers.get("content-encoding") == "gzip":  # large enough to compress
        assert packed.headers["etag"] == "W/" + etag  # not the same bytes: weakened
    for header in (etag, "W/" + etag, "*"):
        again = await client.get(url, headers={"If-None-Match": header})
        assert again.status_code == 304, header


# --- content codings (RFC 9110 §8.4, §12.5.3) ---------------------------------------------


@pytest.mark.parametrize("path", DATA_PATHS)
@pytest.mark.parametrize("coding", ["br", "gzip"])
async def test_compressed_answers_vary_and_keep_their_validators(
    client: httpx.AsyncClient, path: str, coding: str
) -> None:
    plain = await _raw(client, path, IDENTITY)
    assert "content-encoding" not in plain.headers
    for _ in range(2):  # a fresh answer, then the cached one (where paths are cached)
        packed = await _raw(client, path, {"Accept-Encoding": coding})
        assert packed.status_code == 200
        assert packed.headers["content-encoding"] == coding
        assert "accept-encoding" in packed.headers["vary"].lower()
        assert int(packed.headers["content-length"]) == len(packed.content)
        decode = brotli.decompress if coding == "br" else gzip.decompress
        assert decode(packed.content) == plain.content
        assert len(packed.content) < len(plain.content)
        assert packed.headers["etag"] == plain.headers["etag"]  # weak: one tag, any coding
        assert packed.headers["content-type"] == plain.headers["content-type"]
    revalidated = await client.get(
        path, headers={"Accept-Encoding": coding, "If-None-Match": plain.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert "accept-encoding" in revalidated.headers["vary"].lower()
    assert "content-encoding" not in revalidated.headers


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0.5, br;q=0.4", "gzip"),
        ("*", "br"),
        ("*;q=0", None),
        ("identity", None),
        ("GZIP;Q=1", "gzip"),
        ("deflate", None),
    ],
)
async def test_codings_are_negotiated(
    client: httpx.AsyncClient, accept: str, expected: str | None
) -> None:
    answer = await _raw(client, "/v1/agreements", {"Accept-Encoding": accept})
    assert answer.headers.get("content-encoding") == expected
    assert "accept-encoding" in answer.headers["vary"].lower()


async def test_cached_compressed_bodies_are_not_compressed_again(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = compression.compress

    def counting(coding: str, body: bytes) -> bytes:
        calls.append(coding)
        return real(coding, body)

    monkeypatch.setattr(compression, "compress", counting)
    path = "/v1/agreements?limit=7"
    first = await client.get(path, headers={"Accept-Encoding": "br"})
    assert calls == ["br"]
    for _ in range(3):
        again = await client.get(path, headers={"Accept-Encoding": "br"})
        assert again.headers["x-cache"] == "HIT"
        assert again.content == first.content
    assert calls == ["br"]
    await client.get(path, headers={"Accept-Encoding": "gzip"})  # its own entry
    assert calls == ["br", "gzip"]
    assert (await client.get(path, headers=IDENTITY)).headers.get("content-encoding") is None


async def test_small_bodies_and_head_are_not_compressed(client: httpx.AsyncClient) -> None:
    small = await _raw(client, "/healthz", {"Accept-Encoding": "br, gzip"})
    assert len(small.content) < compression.MIN_BYTES
    assert "content-encoding" not in small.headers
    head = await client.head("/v1/agreements", headers={"Accept-Encoding": "br"})
    assert head.status_code == 200
    assert "content-encoding" not in head.headers
    assert "accept-encoding" in head.headers["vary"].lower()


async def test_streamed_exports_are_compressed_whole(client: httpx.AsyncClient) -> None:
    path = "/v1/agreements?format=csv"
    plain = await _raw(client, path, IDENTITY)
    packed = await _raw(client, path, {"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "content-length" not in packed.headers  # streamed: chunked
    assert gzip.decompress(packed.content) == plain.content
    assert packed.headers["content-disposition"] == plain.headers["content-disposition"]


_codings = st.sampled_from(["br", "gzip", "deflate", "identity", "*", "zstd", "BR", "x-gzip"])
_weights = st.one_of(st.none(), st.sampled_from(["0", "0.0", "0.001", "0.5", "1", "1.0", "x"]))


@given(st.lists(st.tuples(_codings, _weights), max_size=5))
def test_negotiation_takes_the_most_wanted_acceptable_coding(
    parts: list[tuple[str, str | None]],
) -> None:
    header = ", ".join(name if q is None else f"{name};q={q}" for name, q in parts)
    chosen = _parse(header.encode())
    weights: dict[str, float] = {}
    for name, q in parts:
        try:
            weights[name.lower()] = 1.0 if q is None else float(q)
        except ValueError:
            weights[name.lower()] = 0.0

    def weight(coding: str) -> float:
        return weights.get(coding, weights.get("*", 0.0))

    if chosen is None:
        assert weight("br") <= 0
        assert weight("gzip") <= 0
    else:
        assert weight(chosen) > 0
        assert weight(chosen) >= max(weight("br"), weight("gzip"))
