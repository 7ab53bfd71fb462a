"""The shipped demo data set loads like real files and is labelled as demo everywhere."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.api.app import create_app
from open287g.config import Settings
from open287g.db.queries.changes import DEMO_NOTICE
from open287g.loaders.cli import DEMO_DIR
from open287g.loaders.ice287g.load import load_sources, plan_sources


async def test_demo_data_is_labelled_on_every_answer(engine: AsyncEngine) -> None:
    results = await load_sources(engine, plan_sources([str(DEMO_DIR)]), Settings(), is_demo=True)
    assert [r.planned.kind.value for r in results] == ["PARTICIPATING", "PENDING", "PARTICIPATING"]
    transport = httpx.ASGITransport(app=create_app(engine=engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        page = (await http.get("/v1/agreements")).json()
        datasets = (await http.get("/v1/datasets")).json()["data"]
        graphql = await http.post("/graphql", json={"query": "{ notice datasets { isDemo } }"})
        catalog = (await http.get("/data.json")).json()
    assert page["notice"] == DEMO_NOTICE
    assert all(row["agency_name"].endswith("(DEMO)") for row in page["data"])
    assert all(d["is_demo"] for d in datasets)
    assert graphql.json()["data"]["notice"] == DEMO_NOTICE
    assert all(d["isDemo"] for d in graphql.json()["data"]["datasets"])
    assert all("DEMO DATA" in d["title"] for d in catalog["dataset"])
