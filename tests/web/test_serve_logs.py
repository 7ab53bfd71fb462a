"""`open287g serve` logs one JSON object per line, one per request (#15): route template,
status, duration, cache, data version; never the query string or what the client sent."""

from __future__ import annotations

import subprocess
import sys

import httpx
import orjson
from sqlalchemy.engine import URL

from load_tests.server import free_port, wait_ready
from tests.support.environment import PROJECT_ROOT
from tests.support.live import server_env

SECRET = "needle-5521"


def _serve(database_url: URL, port: int, flags: tuple[str, ...]) -> subprocess.Popen[bytes]:
    """`open287g serve` at its default log level (info), its log captured."""
    command = [sys.executable, "-m", "open287g", "serve", "--port", str(port), *flags]
    env = server_env(database_url, OPEN287G_RATE_LIMIT_PER_SECOND="0")
    return subprocess.Popen(  # noqa: S603
        command, env=env, cwd=PROJECT_ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )


async def _serve_and_ask(database_url: URL, *flags: str) -> list[str]:
    port = free_port()
    process = _serve(database_url, port, flags)
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, seconds=30)
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(2):
                response = await http.get(
                    f"/v1/jurisdictions?q={SECRET}", headers={"X-Whatever": SECRET}
                )
                assert response.status_code == 200
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    return stderr.decode().splitlines()


async def test_serve_writes_one_json_line_per_request(database_url: URL) -> None:
    lines = await _serve_and_ask(database_url)
    entries = [orjson.loads(line) for line in lines if line.startswith("{")]
    requests = [e for e in entries if e.get("event") == "request"]
    asked = [e for e in requests if e["route"] == "/v1/jurisdictions"]
    assert len(asked) == 2, lines
    assert asked[0]["status"] == 200
    assert asked[0]["logger"] == "open287g.access"
    assert asked[0]["duration_ms"] > 0
    assert isinstance(asked[0]["data_version"], int)
    assert [e["cache"] for e in asked] == ["miss", "hit"]
    assert all(SECRET not in line for line in lines)
    assert any(e["route"] == "/readyz" for e in requests)


async def test_serve_plain_logs_on_request(database_url: URL) -> None:
    lines = await _serve_and_ask(database_url, "--log-format", "plain")
    asked = [line for line in lines if "route=/v1/jurisdictions" in line]
    assert len(asked) == 2, lines
    assert "status=200" in asked[0]
    assert not any(line.startswith("{") for line in lines)
    assert all(SECRET not in line for line in lines)
