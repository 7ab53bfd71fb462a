"""The live server fixture serves the loaded real data."""

from __future__ import annotations

import httpx

from tests.support.live import LiveServer


async def test_live_server_serves_the_real_snapshots(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        body = (await http.get("/v1/agreements", params={"limit": 1})).json()
        query = "{ agreements(first: 1) { totalCount } }"
        total = (await http.post("/graphql", json={"query": query})).json()
    assert body["data"], body
    assert total["data"]["agreements"]["totalCount"] == 874
