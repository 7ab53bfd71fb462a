"""URL sources against a real HTTP server on loopback, ICE page discovery, and the CLI."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from open287g.loaders.errors import LoadError
from open287g.loaders.ice287g.discover import find_spreadsheet_links
from open287g.loaders.sources import fetch_url
from tests.support.cli import cli_database, run_cli
from tests.support.database import create_database_copy, drop_database
from tests.support.fixtures import PENDING_HEADER, ice_xlsx, write

PENDING_FILE = ice_xlsx(
    [("KANSAS", "Z County Sheriff's Office", "County", "Z County", "Task Force Model")],
    header=PENDING_HEADER,
)


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path.startswith("/flaky") and self.hits[self.path] == 1:
            self.send_error(503)
            return
        if self.path.endswith(".xlsx"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(PENDING_FILE)))
            self.end_headers()
            self.wfile.write(PENDING_FILE)
            return
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


async def test_download_is_hashed_and_named(server: str) -> None:
    document = await fetch_url(
        f"{server}/doc/pendingAgencies07012025am.xlsx", max_bytes=10**6, http_timeout=5
    )
    assert document.data == PENDING_FILE
    assert document.name == "pendingAgencies07012025am.xlsx"
    assert document.url is not None
    assert len(document.sha256) == 64


async def test_download_retries_server_errors(server: str) -> None:
    document = await fetch_url(f"{server}/flaky/x.xlsx", max_bytes=10**6, http_timeout=5)
    assert document.data == PENDING_FILE
    assert _Handler.hits["/flaky/x.xlsx"] == 2


async def test_download_limits_and_missing_files(server: str) -> None:
    with pytest.raises(LoadError, match="the limit is 100"):
        await fetch_url(f"{server}/big.xlsx", max_bytes=100, http_timeout=5)
    with pytest.raises(LoadError, match="HTTP 404"):
        await fetch_url(f"{server}/missing", max_bytes=10**6, http_timeout=5)


def test_links_found_on_the_ice_page() -> None:
    html = """
      <a href="/doclib/about/offices/ero/287g/participatingAgencies07182025pm.xlsx">new</a>
      <a href='https://www.ice.gov/doclib/about/offices/ero/287g/pendingAgencies07182025pm.xlsx'>x</a>
      <a href="/doclib/about/offices/ero/287g/participatingAgencies07112025pm.xlsx">older</a>
      <a href="/other.xlsx">unrelated</a>
    """
    assert find_spreadsheet_links(html, "https://www.ice.gov/identify-and-arrest/287g") == [
        "https://www.ice.gov/doclib/about/offices/ero/287g/pendingAgencies07182025pm.xlsx",
        "https://www.ice.gov/doclib/about/offices/ero/287g/participatingAgencies07182025pm.xlsx",
    ]


async def test_cli_loads_a_url_and_prints_a_summary(
    server_url: URL, template_url: URL, server: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:  # fmt: skip
    async with cli_database(server_url, template_url, monkeypatch) as url:
        source = f"{server}/doc/pendingAgencies07012025am.xlsx"
        assert await run_cli(["load", "ice-287g", source]) == 0
        out = capsys.readouterr().out
        assert "ice-287g: 1 file(s): inserted 1 / updated 0 / unchanged 0" in out
        assert await run_cli(["load", "ice-287g", source]) == 0
        assert "inserted 0 / updated 0 / unchanged 1" in capsys.readouterr().out

        bad = write(tmp_path, "participatingAgencies07012025am.xlsx", b"a,b\n1,2\n")
        assert await run_cli(["load", "ice-287g", str(bad)]) == 1
        assert "not a valid .xlsx file (a CSV or text file)" in capsys.readouterr().err

        engine = create_async_engine(url, poolclass=NullPool)
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT url, bytes FROM source_files"))).one()
        await engine.dispose()
        assert tuple(stored) == (source, len(PENDING_FILE))


# One row each, in a state that does not exist: read, rejected, and the file recorded.
CSV_COMMANDS = {
    "policies": (
        "jurisdiction_level,state,name,status,declared_sanctuary\nstate,ZZ,Nowhere,none,no\n",
        "policies: inserted 0 / updated 0 / unchanged 0 / ended 0 / rejected 1",
    ),
    "officials": (
        "state,agency,name\nZZ,Nowhere Sheriff's Office,A. Person\n",
        "officials: inserted 0 / updated 0 / unchanged 0 / ended 0 / rejected 1",
    ),
    "lineage-overrides": (
        "action,state,model,predecessor,successor\nlink,ZZ,TASK_FORCE,A,B\n",
        "lineage-overrides: 1 rows, 0 overrides applied, 0 agreements changed, 1 rejected",
    ),
    "placement-overrides": (
        "state,agency,county_fips\nZZ,Nowhere Sheriff's Office,48201\n",
        "placement-overrides: 1 rows, 0 overrides, 0 agencies moved, 1 rejected",
    ),
    "facility-overrides": (
        "code,county_fips\nNOWHERE,99999\n",
        "facility-overrides: 1 rows, 0 overrides applied, 0 facilities changed, 1 rejected",
    ),
}


async def test_csv_commands_load_once_and_print_a_summary(
    server_url: URL, template_url: URL, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:  # fmt: skip
    """Every CSV document command reads its file, says what the load did, and says so
    when the same bytes come again; a file with no data rows is a one-line error."""
    async with cli_database(server_url, template_url, monkeypatch):
        for name, (body, summary) in CSV_COMMANDS.items():
            source = str(write(tmp_path, f"{name}.csv", body.encode()))
            assert await run_cli(["load", name, source]) == 0
            assert capsys.readouterr().out == f"{summary}\n"
            assert await run_cli(["load", name, source]) == 0
            again = f"{name}.csv: already loaded (same sha256), nothing changed\n"
            assert capsys.readouterr().out.startswith(again), name
            header_only = str(write(tmp_path, f"{name}-empty.csv", body.split("\n")[0].encode()))
            assert await run_cli(["load", name, header_only]) == 1
            assert "the file has no data rows" in capsys.readouterr().err


async def test_file_loads_publish_their_name_never_a_server_path(
    server_url: URL, template_url: URL, tmp_path: Path
) -> None:
    """#10.10: REST JSON, CSV and GraphQL showed where a file sat on the loading machine."""
    from open287g.app import create_app
    from open287g.config import Settings
    from open287g.loaders.ice287g.load import load_sources, plan_sources

    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        path = write(tmp_path, "pendingAgencies07012025am.xlsx", PENDING_FILE)
        await load_sources(engine, plan_sources([str(path)]), Settings())
        transport = httpx.ASGITransport(app=create_app(engine=engine))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            rows = (await http.get("/v1/datasets")).json()["data"]
            csv_body = (await http.get("/v1/datasets?format=csv")).text
            graphql = await http.post("/graphql", json={"query": "{ datasets { name url } }"})
        assert [(r["name"], r["url"]) for r in rows] == [(path.name, None)]
        assert graphql.json()["data"]["datasets"] == [{"name": path.name, "url": None}]
        for body in (str(rows), csv_body, graphql.text):
            assert str(tmp_path) not in body
    finally:
        await engine.dispose()
        await drop_database(server_url, url)


async def test_migration_clears_the_paths_already_published(
    server_url: URL, template_url: URL
) -> None:
    from open287g.db import migrate

    url = await create_database_copy(server_url, template_url)
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        migrate.downgrade(url, "0005")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO source_files (dataset, name, url, sha256, bytes, fetched_at)"
                    " VALUES ('ice-287g', 'a.xlsx', '/srv/private/a.xlsx', 'a', 1, now()),"
                    " ('ice-287g', 'b.xlsx', 'https://www.ice.gov/b.xlsx', 'b', 1, now())"
                )
            )
        migrate.upgrade(url)
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT name, url FROM source_files"))
            urls: dict[str, str | None] = {str(name): url for name, url in rows}
            changed = (
                await conn.execute(text("SELECT count(*) FROM changes WHERE entity = 'dataset'"))
            ).scalar_one()
        assert urls == {"a.xlsx": None, "b.xlsx": "https://www.ice.gov/b.xlsx"}
        assert changed == 1  # mirrors of /v1/datasets learn of the rewrite
    finally:
        await engine.dispose()
        await drop_database(server_url, url)
