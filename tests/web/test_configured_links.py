"""Links come from the configuration, never from the client (#23): trailing-slash
redirects take their base from OPEN287G_PUBLIC_URL whatever `Host` says, `open287g serve`
derives the public URL from its port when none is set, and CSV cells no spreadsheet can
split into a formula."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings, local_url
from open287g.web.responses import neutralize
from tests.support.live import LiveServer, start_live_server

PUBLIC = "https://data.example.org/open287g"
SEPARATORS = ",;|\t\r\n"
FORMULA_START = "=+-@"


@pytest.fixture(scope="module")
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(public_url=PUBLIC), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as http:
        yield http


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/v1/agreements/", "/v1/agreements"),
        ("/v1/agreements/?limit=2", "/v1/agreements?limit=2"),
        ("/healthz/", "/healthz"),
    ],
)
async def test_a_slash_redirect_is_built_from_the_public_url(
    client: httpx.AsyncClient, path: str, target: str
) -> None:
    answer = await client.get(path, headers={"Host": "evil.example"})
    assert answer.status_code == 307
    assert answer.headers["location"] == PUBLIC + target


@pytest.mark.parametrize("path", ["/no/such/path/", "/v1/nothing"])
async def test_paths_no_route_answers_are_404_not_redirects(
    client: httpx.AsyncClient, path: str
) -> None:
    answer = await client.get(path, headers={"Host": "evil.example"})
    assert answer.status_code == 404
    assert "location" not in answer.headers


@pytest.fixture(scope="module")
async def server(database_url: URL) -> AsyncIterator[LiveServer]:
    """The real server with no OPEN287G_PUBLIC_URL in its environment."""
    live = await start_live_server(database_url)
    assert "OPEN287G_PUBLIC_URL" not in live.env
    yield live
    live.stop()


def _raw_get(server: LiveServer, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_real_server_never_redirects_to_the_request_host(server: LiveServer) -> None:
    answer = _raw_get(
        server, b"GET /v1/agreements/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    )
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert head.startswith("http/1.1 307")
    assert f"location: http://127.0.0.1:{server.port}/v1/agreements\r\n" in head
    assert "evil.example" not in answer.decode()
    # A path that would be a scheme-relative link if it were sent back as it came.
    answer = _raw_get(
        server, b"GET //evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 404")


async def test_links_follow_the_port_served_on(server: LiveServer) -> None:
    """`make run PORT=18080` (`serve --port 18080`) links to port 18080, not 8000."""
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        page = await http.get("/v1/jurisdictions?limit=2", headers={"Host": "evil.example"})
        feed = await http.get("/v1/changes.atom")
    assert page.headers["link"].startswith(f"<http://127.0.0.1:{server.port}/v1/jurisdictions?")
    assert f"http://127.0.0.1:{server.port}/" in feed.text
    assert "127.0.0.1:8000" not in page.headers["link"] + feed.text


def test_a_wildcard_host_is_linked_on_loopback() -> None:
    assert local_url("0.0.0.0", 18080) == "http://127.0.0.1:18080"  # noqa: S104
    assert local_url("::", 18080) == "http://[::1]:18080"
    assert local_url("example.org", 80) == "http://example.org:80"


def _pieces(cell: str) -> list[str]:
    """Every cell a spreadsheet could make of `cell`, splitting on any one separator."""
    return [piece for sep in SEPARATORS for piece in cell.split(sep)]


def _runs(piece: str) -> bool:
    return piece.lstrip(" \t\r").startswith(tuple(FORMULA_START))


@pytest.mark.parametrize(
    "dangerous",
    ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "x;=1+1", "a,+1", "b\t-1", "c|@x",
     "d; =1", "e\n=1"],
)  # fmt: skip
def test_csv_cells_that_could_become_formulas_are_neutralized(dangerous: str) -> None:
    safe = neutralize(dangerous)
    assert safe.startswith("'")
    assert not any(_runs(piece) for piece in _pieces(safe))


@given(st.text(alphabet=st.sampled_from("ab ,;|\t\r\n=+-@'\"")))
def test_no_piece_of_a_neutralized_cell_starts_a_formula(cell: str) -> None:
    safe = neutralize(cell)
    assert not any(_runs(piece) for piece in _pieces(safe))
    # A cell whose first character after spaces is a tab or CR is made text (as the guard
    # says); Hypothesis found " \r", which the old check here called harmless.
    if not cell.lstrip(" ").startswith(("\t", "\r")) and not any(_runs(p) for p in _pieces(cell)):
        assert safe == cell  # harmless cells are left alone


def test_ordinary_cells_are_left_alone() -> None:
    for cell in ("Harris County", "Miami-Dade", "Smith, Jr.", "A+B", "x = 1", ""):
        assert neutralize(cell) == cell
