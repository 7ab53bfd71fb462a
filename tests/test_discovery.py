"""The Atom feed is a changelog people can read (RFC 4287, parsed by feedparser and
checked element by element), with links from the configured public URL only."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import feedparser
import httpx
import pytest

from open287g.config import Settings
from tests.fixtures import ICE_DIR
from tests.live import LiveServer

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")

A = "{http://www.w3.org/2005/Atom}"
# The live server runs without OPEN287G_PUBLIC_URL: links use the default.
PUBLIC = str(Settings.model_fields["public_url"].default)


async def _feed(live_server: LiveServer, **headers: str) -> bytes:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        response = await http.get("/v1/changes.atom", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    return response.content


async def test_atom_feed_is_a_valid_readable_changelog(live_server: LiveServer) -> None:
    body = await _feed(live_server)
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert 0 < len(parsed.entries) <= 100
    root = ET.fromstring(body)  # noqa: S314 (the feed of our own test server)
    for element in ("id", "title", "updated", "author"):
        assert root.find(A + element) is not None, f"feed lacks <{element}>"
    for entry in root.findall(A + "entry"):
        for element in ("id", "title", "updated", "author", "summary", "link"):
            assert entry.find(A + element) is not None, f"entry lacks <{element}>"
    for entry in parsed.entries:
        assert not re.fullmatch(r"\w+ \d+ (UPSERT|DELETE)", entry.title), entry.title
        assert entry.author == "open287g"
        assert entry.summary
        assert entry.link.startswith(PUBLIC + "/v1/")
    titles = [entry.title for entry in parsed.entries]
    # The newest load is the synthetic detainer release, after the policy CSV and lists.
    assert any("policy added: RESTRICTS" in t for t in titles), titles[:5]
    assert all(" UPSERT" not in t for t in titles)


async def test_atom_entries_name_the_agreement_and_what_changed(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        changes = (await http.get("/v1/changes", params={"since": 0, "limit": 1})).json()
    assert changes["data"]
    body = await _feed(live_server)
    titles = [entry.title for entry in feedparser.parse(body).entries]
    agreement = [t for t in titles if re.search(r"\(([A-Z]{2}), [A-Z][a-z]+.*\): ", t)]
    assert agreement or any("dataset" in t for t in titles), titles[:10]


async def test_atom_links_never_come_from_the_host_header(live_server: LiveServer) -> None:
    for _ in range(2):  # a second request may be a cache hit
        body = await _feed(live_server, Host="evil.example")
        assert b"evil.example" not in body
        assert PUBLIC.encode() in body
