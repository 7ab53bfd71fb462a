"""The pages in real headless Chromium (Debian's, driven by Selenium) with the network cut
off, against the real server (`open287g serve`) on all 54 real ICE snapshots, the policy
CSV and a synthetic detainer release: the home page, a state page and an agency page render
with no console error and no request to another host; the map has one shape per state with
the API's count in its title; the chart's last point is the API's current count; every
same-origin link on the three pages resolves; a hostile agency name shows as text. A
screenshot of each page is written to the test artifacts directory."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
import pytest
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.config import Settings
from open287g.db.reference_data import STATES
from open287g.loaders.ice287g.load import load_sources, plan_sources
from tests.support.browser import Browser, foreign_hosts
from tests.support.database import create_database_copy, drop_database
from tests.support.fixtures import ICE_DIR, ice_xlsx, write
from tests.support.live import LiveServer, start_live_server

pytestmark = pytest.mark.skipif(not ICE_DIR.is_dir(), reason=f"{ICE_DIR} not present")
HOSTILE = "<script>alert(1)</script>"
MAX_PAGE_BYTES = 150 * 1024


@pytest.fixture(scope="module")
async def pages(live_server: LiveServer) -> dict[str, str]:
    """name → path of the three pages under test (an agency with an active agreement)."""
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        rows = (await http.get("/v1/agreements?state=TX&status=ACTIVE&limit=1")).json()["data"]
    return {"home": "/", "state": "/states/TX", "agency": f"/agencies/{rows[0]['agency_id']}"}


def _open(browser: Browser, url: str, screenshot: Path | None = None) -> list[str]:
    """Load `url`, wait until it is complete, optionally save a full-page screenshot;
    the URLs the browser requested."""
    driver = browser.driver
    browser.requested_urls()  # forget earlier requests
    driver.get(url)
    deadline = time.monotonic() + 20
    while driver.execute_script("return document.readyState") != "complete":
        assert time.monotonic() < deadline, f"{url} did not finish loading"
        time.sleep(0.05)
    if screenshot is not None:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1280, min(int(height), 12000))
        driver.save_screenshot(str(screenshot))
        driver.set_window_size(1280, 900)
    return browser.requested_urls()


async def _api_counts(base: str) -> tuple[dict[str, int], int]:
    async with httpx.AsyncClient(base_url=base) as http:
        by_state = (await http.get("/v1/stats/agreements?group_by=state&status=ACTIVE")).json()
        total = (await http.get("/v1/stats/agreements?group_by=status&status=ACTIVE")).json()
    return {r["state"]: r["count"] for r in by_state["data"]}, total["data"][0]["count"]


def test_pages_render_offline_without_errors(
    live_server: LiveServer, browser: Browser, pages: dict[str, str], artifacts_dir: Path
) -> None:
    from selenium.webdriver.common.by import By

    for name, path in pages.items():
        urls = _open(browser, live_server.base_url + path, artifacts_dir / f"page-{name}.png")
        assert urls, name
        assert foreign_hosts(urls) == set(), (name, urls)
        assert browser.console_errors() == [], name
        assert browser.driver.find_element(By.TAG_NAME, "h1").text.strip(), name
        # The stylesheet loaded and applied (the header band is the site's dark blue).
        header = browser.driver.find_element(By.CSS_SELECTOR, "header.site")
        assert header.value_of_css_property("background-color") == "rgba(8, 48, 107, 1)"


async def test_map_has_one_shape_per_state_titled_with_the_api_count(
    live_server: LiveServer, browser: Browser
) -> None:
    from selenium.webdriver.common.by import By

    by_state, _ = await _api_counts(live_server.base_url)
    _open(browser, live_server.base_url + "/")
    shapes = browser.driver.find_elements(By.CSS_SELECTOR, "#us-map a > use[data-state]")
    assert len(shapes) == len(STATES) == 51
    names = {s.usps: s.name for s in STATES}
    seen = set()
    for shape in shapes:
        code = shape.get_attribute("data-state")
        link = shape.find_element(By.XPATH, "..")
        title = link.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        count = by_state.get(code, 0)
        assert title.startswith(f"{names[code]}: {count} active agreement"), title
        assert link.get_dom_attribute("href") == f"/states/{code}"
        assert shape.size["width"] > 0 or code == "DC"  # drawn (DC is a speck)
        seen.add(code)
    assert seen == set(names)


async def test_chart_last_point_is_the_api_current_count(
    live_server: LiveServer, browser: Browser
) -> None:
    from selenium.webdriver.common.by import By

    _, active = await _api_counts(live_server.base_url)
    _open(browser, live_server.base_url + "/")
    last = browser.driver.find_element(By.CSS_SELECTOR, "#time-chart #last-point")
    assert int(last.get_attribute("data-count")) == active
    series = browser.driver.find_element(By.CSS_SELECTOR, "#time-chart g[data-series=ACTIVE]")
    assert int(series.get_attribute("data-last")) == active
    label = series.find_element(By.CSS_SELECTOR, "text.end").text
    assert label.startswith(f"{active:,} "), label
    # The text alternative says the same, and the table fallback's last row too.
    desc = browser.driver.find_element(By.ID, "time-desc").get_attribute("textContent")
    assert f"to {active} " in desc
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "details table.numbers tbody tr")
    assert rows[-1].find_elements(By.TAG_NAME, "td")[0].get_attribute("textContent") == str(active)


async def test_every_same_origin_link_resolves(
    live_server: LiveServer, browser: Browser, pages: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    origin = urlsplit(live_server.base_url).netloc
    links: set[str] = set()
    for path in pages.values():
        _open(browser, live_server.base_url + path)
        for anchor in browser.driver.find_elements(By.CSS_SELECTOR, "a[href]"):
            # the attribute as written (an SVG link's href property is not a string)
            href = urldefrag(
                urljoin(live_server.base_url + path, anchor.get_dom_attribute("href"))
            )[0]
            if urlsplit(href).netloc == origin:
                links.add(href)
    assert len(links) > 100  # the state page links every agency
    failures: dict[str, int] = {}
    limit = asyncio.Semaphore(4)

    async def check(http: httpx.AsyncClient, url: str) -> None:
        async with limit:
            response = await http.get(url, follow_redirects=True)
            if response.status_code >= 400:
                failures[url] = response.status_code

    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(check(http, url) for url in sorted(links)))
    assert failures == {}
    print(f"{len(links)} same-origin links checked")


async def test_pages_are_small_and_fast_when_cached(
    live_server: LiveServer, pages: dict[str, str]
) -> None:
    """Sizes of every state page and the three pages; cached answers timed over loopback
    (a rough measure on a shared machine; the issue's bound, 50 ms, asserted generously
    as a median)."""
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=60) as http:
        sizes = {}
        for state in STATES:
            response = await http.get(f"/states/{state.usps}")
            assert response.status_code == 200
            sizes[state.usps] = len(response.content)
        largest = max(sizes, key=lambda code: sizes[code])
        assert sizes[largest] < MAX_PAGE_BYTES, (largest, sizes[largest])
        for name, path in pages.items():
            first = await http.get(path)
            assert len(first.content) < MAX_PAGE_BYTES, name
            timings = []
            for _ in range(20):
                started = time.perf_counter()
                response = await http.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.headers.get("x-cache") == "HIT", name
            median = statistics.median(timings)
            print(f"{name} {path}: {len(first.content):,} bytes; cached median {median:.1f} ms,"
                  f" max {max(timings):.1f} ms")  # fmt: skip
            assert median < 50, (name, timings)
        print(f"largest state page: {largest} {sizes[largest]:,} bytes")


@pytest.fixture(scope="module")
async def hostile_server(
    server_url: URL, template_url: URL, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """A server of its own over a database holding one list whose agency name is a script
    (ICE's files are untrusted input)."""
    url = await create_database_copy(server_url, template_url)
    folder = tmp_path_factory.mktemp("hostile")
    path = write(
        folder,
        "participatingAgencies07182025pm.xlsx",
        ice_xlsx([
            ("TEXAS", HOSTILE, "County", "Harris County", "Jail Enforcement Model",
             dt.datetime(2025, 3, 1), None),
            ("TEXAS", "Travis County Sheriff's Office", "County", "Travis County",
             "Task Force Model", dt.datetime(2025, 4, 1), None),
        ]),
    )  # fmt: skip
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        await load_sources(engine, plan_sources([str(path)]), Settings())
    finally:
        await engine.dispose()
    server = await start_live_server(url)
    yield server
    server.stop()
    await drop_database(server_url, url)


async def test_hostile_agency_name_shows_as_text(
    hostile_server: LiveServer, browser: Browser, artifacts_dir: Path
) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    base = hostile_server.base_url
    async with httpx.AsyncClient(base_url=base) as http:
        found = (await http.get("/v1/agencies?q=script")).json()["data"]
    [agency] = [a for a in found if a["name"] == HOSTILE]
    for name, path in (("agency", f"/agencies/{agency['id']}"), ("state", "/states/TX"),
                       ("home", "/")):  # fmt: skip
        _open(browser, base + path, artifacts_dir / f"page-hostile-{name}.png")
        with pytest.raises(NoAlertPresentException):
            browser.driver.switch_to.alert.text  # noqa: B018 (nothing ran alert())
        scripts = browser.driver.find_elements(By.TAG_NAME, "script")
        assert scripts == [], name  # the name did not become an element
        assert browser.console_errors() == [], name
    _open(browser, base + f"/agencies/{agency['id']}")
    assert browser.driver.find_element(By.TAG_NAME, "h1").text == HOSTILE
    _open(browser, base + "/states/TX")
    table = browser.driver.find_element(By.ID, "agreement-table").text
    assert HOSTILE in table
