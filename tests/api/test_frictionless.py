"""`/datapackage.json` of the real server over the real data validates with frictionless
(a client nobody here wrote): every resource, its data included, foreign keys too."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import requests
from frictionless import Package, system

from tests.support.fixtures import ICE_DIR
from tests.support.live import LiveServer

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")


def validate(url: str) -> Any:
    """Validate with a session of our own, closed afterwards: frictionless's default session
    lives as long as the process, and its pooled sockets to the (soon stopped) live server
    were collected during a later test as an unraisable ResourceWarning."""
    with requests.Session() as session, system.use_context(http_session=session):
        return Package(url).validate()


async def test_datapackage_validates_with_frictionless(live_server: LiveServer) -> None:
    base = live_server.base_url
    report = await asyncio.to_thread(validate, f"{base}/datapackage.json")
    # frictionless leaves "rows" out of the stats of a resource with no data rows (the live
    # server loads no detainer release), hence .get below.
    errors = [error.message for task in report.tasks for error in task.errors][:5]
    assert report.valid, errors
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        package = (await http.get("/datapackage.json")).json()
        expected = {}
        for resource in package["resources"]:
            path = resource["path"].replace("format=csv", "format=ndjson")
            export = await http.get(f"/{path}")
            expected[resource["name"]] = len(export.text.splitlines())
    rows = {task.name: task.stats.get("rows", 0) for task in report.tasks}
    print(f"frictionless: valid, rows per resource {rows}, {sum(rows.values())} in all")
    assert rows == expected
    assert set(rows) == {
        "agreements", "agencies", "jurisdictions", "facilities", "policies", "program-models",
        "datasets", "agreement-stats", "detainer-stats", "documents",
    }  # fmt: skip
    assert rows["agreements"] == 874
    assert rows["datasets"] >= 56
    assert all(path.startswith("v1/") for path in (r["path"] for r in package["resources"]))
