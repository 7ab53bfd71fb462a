"""DCAT-US (/data.json) from configuration and from the data: `publisher` and
`contactPoint` are the deployment's settings, and each dataset's `modified` is the date
of its newest list, not the day it was loaded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.loaders.ice287g.load import load_sources, plan_sources
from tests.support.fixtures import ICE_DIR, ICE_FILES

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")


async def _catalog(engine: AsyncEngine, settings: Settings) -> dict[str, Any]:
    app = create_app(settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        answer = await http.get("/data.json")
    assert answer.status_code == 200
    catalog: dict[str, Any] = answer.json()
    return catalog


async def test_publisher_contact_and_modified(engine: AsyncEngine) -> None:
    await load_sources(engine, plan_sources([str(p) for p in ICE_FILES[:3]]), Settings())
    async with engine.connect() as conn:
        newest = (
            await conn.execute(
                text("SELECT max(snapshot_date) FROM source_files WHERE dataset = 'ice-287g'")
            )
        ).scalar_one()
    assert isinstance(newest, dt.date)
    assert newest != dt.datetime.now(dt.UTC).date()  # a list's date, not the load's
    settings = Settings(
        OPEN287G_CONTACT_EMAIL="data@county.example",
        OPEN287G_CONTACT_NAME="County data desk",
        OPEN287G_PUBLISHER_NAME="Example County",
        OPEN287G_PUBLISHER_URL="https://county.example",
        OPEN287G_RESPONSE_CACHE=False,
    )
    catalog = await _catalog(engine, settings)
    datasets = catalog["dataset"]
    assert isinstance(datasets, list)
    (ice,) = [d for d in datasets if d["identifier"].endswith("#ice-287g")]
    assert ice["contactPoint"] == {
        "@type": "vcard:Contact",
        "fn": "County data desk",
        "hasEmail": "mailto:data@county.example",
    }
    assert ice["publisher"] == {
        "@type": "org:Organization",
        "name": "Example County",
        "url": "https://county.example",
    }
    assert ice["modified"] == newest.isoformat()
    default = await _catalog(engine, Settings(OPEN287G_RESPONSE_CACHE=False))
    (plain,) = [d for d in default["dataset"] if d["identifier"].endswith("#ice-287g")]
    assert "url" not in plain["publisher"]
