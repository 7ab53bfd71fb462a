"""The change feed emits only documented entities, each UPSERT with its record and API id
(outside review E): a detainer release's entry was `{"entity": "detainer_release",
"id": "detainer_release:58", "record": null}`; it now carries the release's dataset id
and /v1/datasets record. Officials (no REST record) are not in the feed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.config import Settings
from open287g.loaders.detainers.load import load_detainer_source
from open287g.loaders.officials import OFFICIALS
from open287g.loaders.sources import SourceDocument
from tests.support.environment import PROJECT_ROOT
from tests.support.fixtures import (
    MAKE_DETAINERS,
    app_client,
    load_release_with_sheriffs,
    make_detainers,
)

pytestmark = pytest.mark.skipif(not MAKE_DETAINERS.is_file(), reason="no detainer generator")
COLLECTIONS = {
    "agreement": "agreements",
    "agency": "agencies",
    "jurisdiction": "jurisdictions",
    "detainer_facility": "facilities",
    "policy": "policies",
    "program_model": "program-models",
    "dataset": "datasets",
    "detainer_release": "datasets",
    "document": "documents",
}


@pytest.fixture(scope="module")
async def http(
    engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    folder = tmp_path_factory.mktemp("feed")
    first = make_detainers(folder / "first.csv", rows=1500, fmt="csv", seed=3)
    await load_release_with_sheriffs(engine, first)
    # A second release over the same months replaces them: the first release changes too.
    second = make_detainers(folder / "second.csv", rows=1500, fmt="csv", seed=4)
    await load_detainer_source(engine, str(second), Settings(), is_synthetic=True)
    async with app_client(engine) as client:
        yield client


async def every_change(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    since = 0
    while True:
        body = (await http.get("/v1/changes", params={"since": since, "limit": 1000})).json()
        changes += body["data"]
        since = body["next_since"]
        if not body["has_more"]:
            return changes


async def test_every_upsert_carries_its_record_and_api_id(http: httpx.AsyncClient) -> None:
    changes = await every_change(http)
    releases = [c for c in changes if c["entity"] == "detainer_release"]
    assert len({c["id"] for c in releases}) == 2, releases  # both releases changed
    for change in changes:
        assert change["entity"] in COLLECTIONS, change
        if change["op"] != "UPSERT":
            continue
        assert change["record"] is not None, change
        assert change["record"]["id"] == change["id"], change
        item = await http.get(f"/v1/{COLLECTIONS[change['entity']]}/{change['id']}")
        assert item.status_code == 200, change
    for release in releases:
        assert release["record"]["dataset"] == "detainers"


async def test_officials_are_not_in_the_feed_and_the_docs_name_every_entity(
    engine: AsyncEngine, http: httpx.AsyncClient
) -> None:
    agency = (await http.get("/v1/agencies", params={"limit": 1})).json()["data"][0]
    body = (
        "state,agency,name,title,term_start,term_end,source_url\n"
        f"{agency['state']},{agency['name']},Pat Example,Sheriff,2017-01-01,,https://x.test/a\n"
    )
    async with engine.begin() as conn:
        _, counts = await OFFICIALS.load(
            conn, SourceDocument(name="officials.csv", data=body.encode())
        )
    assert counts.inserted == 1
    changes = await every_change(http)
    assert "official" not in {c["entity"] for c in changes}
    docs = (PROJECT_ROOT / "docs" / "using-the-api.md").read_text()
    sync = docs[docs.index("- **Sync**") :].split("\n- **")[0]
    named = set(re.findall(r"`([a-z_]+)`", sync))
    assert {c["entity"] for c in changes} <= named
    assert set(COLLECTIONS) <= named
