"""Ids and id filters through the real app (outside review F, G, H): an id is canonical
(one resource, one id: no padding, NUL or leading zero variant is another way to name
it); `facility`, `agency` and `jurisdiction` filters refuse an id of another type, a
malformed id and a well-formed id that names nothing alike (400, a clear message);
`from` after `to` is a 400; each endpoint's `group_by` example is its own; error
messages use the right article."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.api.app import create_app
from open287g.config import Settings
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.ice287g.load import load_sources, plan_sources
from tests.fixtures import MAKE_DETAINERS, make_detainers, sheriffs_xlsx, write

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")


@pytest.fixture(scope="module")
async def http(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("ids")
    release = make_detainers(folder / "release.csv", rows=2000, fmt="csv", seed=7)
    await load_detainer_source(engine, str(release), Settings(), is_synthetic=True)
    ice = write(folder, "participatingAgencies07012025am.xlsx", sheriffs_xlsx(release))
    await load_sources(engine, plan_sources([str(ice)]), Settings())
    settings = Settings(rate_limit_per_second=0, response_cache=False)
    transport = httpx.ASGITransport(app=create_app(settings, engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def first_id(http: httpx.AsyncClient, collection: str, **params: Any) -> str:
    answer = await http.get(f"/v1/{collection}", params={"limit": 1, **params})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"][0]["id"])


async def refused(http: httpx.AsyncClient, path: str, **params: Any) -> str:
    answer = await http.get(path, params=params)
    assert answer.status_code == 400, (params, answer.text)
    assert answer.headers["content-type"] == "application/problem+json"
    return str(answer.json()["detail"])


@pytest.mark.parametrize("endpoint", ["agreements", "detainers"])
async def test_each_group_by_example_is_the_endpoint_s_own(
    http: httpx.AsyncClient, endpoint: str
) -> None:
    detail = await refused(http, f"/v1/stats/{endpoint}", group_by="")
    example = detail.split("e.g. group_by=")[1].split()[0].rstrip(".,;")
    answer = await http.get(f"/v1/stats/{endpoint}", params={"group_by": example})
    assert answer.status_code == 200, (example, answer.text)
