"""GraphiQL works offline: the /graphql page references only this server's own assets, no
inline code, and every asset it names is served with the checksum its manifest records
(the vendored files are byte-identical to the npm packages the manifest names)."""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from open287g.app import create_app
from open287g.graphql import ide
from tests.support.environment import PROJECT_ROOT

ASSET_ROUTE = "/static/graphiql/{name}"


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.inline_styles = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "style" in found or tag == "style":
            self.inline_styles += 1
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(found[name] or "")
        self._in_script = tag == "script"
        if tag == "script" and not found.get("src"):
            self.inline_scripts += 1
        self.inline_scripts += sum(1 for name, _ in attrs if name.startswith("on"))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def test_every_vendored_file_matches_its_manifest() -> None:
    listed = ide.manifest()
    on_disk = {p.name for p in ide.ASSETS.iterdir() if p.name != "MANIFEST.json"}
    assert on_disk == set(listed), "list every file in MANIFEST.json (and only those)"
    for name, entry in listed.items():
        data = (ide.ASSETS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{name} changed"
        assert len(data) == entry["bytes"]
        if entry["source"].startswith("npm:") and not name.startswith("LICENSE"):
            assert entry["license_file"] in listed, f"{name}: ship its licence"


def test_the_assets_are_package_data() -> None:
    pyproject = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert '"graphql/static/graphiql/*"' in pyproject


async def test_graphiql_page_uses_only_local_assets() -> None:
    app = create_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "unsafe" not in csp
        parsed = Page()
        parsed.feed(page.text)
        assert parsed.inline_scripts == 0
        assert parsed.inline_styles == 0
        assert "unpkg" not in page.text
        assert "jsdelivr" not in page.text
        assert len(parsed.urls) == len(ide.STYLES) + len(ide.SCRIPTS)
        served: set[str] = set()
        for url in parsed.urls:
            absolute = urljoin("http://t/graphql", url)
            parts = urlsplit(absolute)
            assert parts.netloc == "t", f"{url} is on another host"
            asset = await http.get(absolute)
            assert asset.status_code == 200, url
            name = parts.path.rsplit("/", 1)[1]
            assert hashlib.sha256(asset.content).hexdigest() == ide.manifest()[name]["sha256"]
            assert "immutable" in asset.headers["cache-control"]
            assert asset.headers["content-type"].startswith(("text/javascript", "text/css"))
            again = await http.get(absolute, headers={"If-None-Match": asset.headers["etag"]})
            assert again.status_code == 304
            served.add(name)
    assert served == {*ide.STYLES, *ide.SCRIPTS}


@pytest.mark.parametrize("name", ["MANIFEST.json", "..%2Fide.py", "nope.js"])
async def test_only_listed_assets_are_served(name: str) -> None:
    app = create_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        answer = await http.get(ASSET_ROUTE.format(name=name))
    assert answer.status_code == 404


async def test_a_shared_query_opens_in_graphiql() -> None:
    """A browser opening /graphql?query=… gets GraphiQL showing it (via the fragment, so
    the response cache never stores HTML under the query's URL); other clients get JSON."""
    app = create_app()
    query = "{ programModels { code } }"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        browser = await http.get(
            "/graphql", params={"query": query}, headers={"Accept": "text/html,*/*;q=0.8"}
        )
    assert browser.status_code == 303
    location = browser.headers["location"]
    assert location.startswith("graphql#")
    assert parse_qs(location.split("#", 1)[1]) == {"query": [query]}
