"""The Atom feeds are changelogs people can read (RFC 4287, parsed by feedparser and
checked element by element): agreement news apart from policies, documents and datasets,
each paged (RFC 5005) and linking its entries to their HTML pages, with links from the
configured public URL only (here the one `serve` derives from its port)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import feedparser
import httpx
import pytest

from tests.support.fixtures import ICE_DIR
from tests.support.live import LiveServer

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")

A = "{http://www.w3.org/2005/Atom}"
FEEDS = {
    "/v1/changes.atom": "agreement",
    "/v1/policies.atom": "policy",
    "/v1/documents.atom": "document",
    "/v1/datasets.atom": "dataset",
}


async def _feed(live_server: LiveServer, path: str = "/v1/changes.atom", **headers: str) -> bytes:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        response = await http.get(path, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    return response.content


async def test_atom_feed_is_a_valid_readable_changelog(live_server: LiveServer) -> None:
    public = live_server.base_url  # serve's own address: no OPEN287G_PUBLIC_URL is set
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
        assert entry.link.startswith(public + "/agencies/"), entry.link  # its HTML page
        assert entry.tags[0].term == "agreement"
    titles = [entry.title for entry in parsed.entries]
    assert all(" UPSERT" not in t for t in titles)
    policies = feedparser.parse(await _feed(live_server, "/v1/policies.atom"))
    assert any("policy added: RESTRICTS" in e.title for e in policies.entries)


@pytest.mark.parametrize(("path", "entity"), FEEDS.items())
async def test_every_feed_pages_and_links_its_entries_to_pages(
    live_server: LiveServer, path: str, entity: str
) -> None:
    """RFC 5005: `first`, and `next` while older entries exist; following `next` gives
    older entries and no repeats. Every entry's HTML page answers."""
    seen: list[str] = []
    url: str | None = live_server.base_url + path
    pages = 0
    async with httpx.AsyncClient(timeout=60) as http:
        while url is not None and pages < 3:
            parsed = feedparser.parse((await http.get(url)).content)
            assert not parsed.bozo, parsed.get("bozo_exception")
            links = {link.rel: link.href for link in parsed.feed.links}
            assert links["first"] == live_server.base_url + path
            seen += [entry.id for entry in parsed.entries]
            assert all(entry.tags[0].term == entity for entry in parsed.entries)
            for entry in parsed.entries[:3]:
                page = await http.get(entry.link)
                assert page.status_code == 200, entry.link
                assert page.headers["content-type"].startswith("text/html")
            url = links.get("next")
            pages += 1
    assert len(seen) == len(set(seen))
    numbers = [int(i.rsplit("#", 1)[1]) for i in seen]
    assert numbers == sorted(numbers, reverse=True)
    if entity == "agreement":  # the real lists give thousands of changes
        assert len(seen) == 300


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
        assert live_server.base_url.encode() in body
