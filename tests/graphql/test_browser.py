"""Real Chromium, network off: GraphiQL at /graphql loads from the package alone and runs a
query through its UI against the real server on the real snapshots."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

from tests.support.browser import Browser, foreign_hosts
from tests.support.live import LiveServer

QUERY = "{ agreements(first: 1) { totalCount } }"


def _wait_for(condition: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {seconds} s")


def test_graphiql_runs_a_query_offline(
    live_server: LiveServer, browser: Browser, artifacts_dir: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser.driver
    driver.get(f"{live_server.base_url}/graphql?query={quote(QUERY)}")

    def execute_button() -> bool:
        return bool(driver.find_elements(By.CSS_SELECTOR, ".graphiql-execute-button"))

    _wait_for(execute_button)
    driver.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()

    def answered() -> bool:
        results = driver.find_elements(By.CSS_SELECTOR, ".result-window")
        return bool(results) and '"totalCount": 874' in results[0].text

    try:
        _wait_for(answered)
    finally:
        driver.save_screenshot(str(artifacts_dir / "graphiql.png"))
    urls = browser.requested_urls()
    assert any(url.startswith(f"{live_server.base_url}/graphql") for url in urls)
    assert foreign_hosts(urls) == set(), "GraphiQL must not load anything from another host"
    errors = [e for e in browser.console_errors() if "favicon.ico" not in e]
    assert errors == [], errors
