"""GraphiQL from the package alone: an HTML page referencing only vendored, checksummed
assets (static/graphiql/, listed with their sha256 in MANIFEST.json), so `/graphql` works
on an air-gapped machine. strawberry's own page loads React and GraphiQL from unpkg.

The page has no inline script or style, so it runs under the Content-Security-Policy it
is sent with (`PAGE_CSP`: everything from 'self'; GraphiQL's stylesheet embeds its fonts
and icons as data: URIs). Assets are served at `/static/graphiql/{name}` with a
year-long immutable Cache-Control: the page asks for them with `?v=<sha256 prefix>`, so a
changed file is a new URL.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from open287g.web.static import immutable_file, not_shipped

ASSETS = Path(__file__).with_name("static") / "graphiql"
MANIFEST = ASSETS / "MANIFEST.json"
STYLES = ("graphiql-3.8.3.min.css", "graphiql-page.css")
SCRIPTS = (
    "react-18.2.0.production.min.js",
    "react-dom-18.2.0.production.min.js",
    "graphiql-3.8.3.min.js",
    "graphiql-init.js",
)
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@cache
def manifest() -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = json.loads(MANIFEST.read_text())["files"]
    return files


def asset_url(name: str) -> str:
    # Relative to /graphql, so the page also works behind a path prefix.
    return f"static/graphiql/{name}?v={manifest()[name]['sha256'][:16]}"


@cache
def _html() -> str:
    styles = "\n".join(f'    <link rel="stylesheet" href="{escape(asset_url(n))}">' for n in STYLES)
    scripts = "\n".join(f'    <script src="{escape(asset_url(n))}"></script>' for n in SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>open287g · GraphiQL</title>
{styles}
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
{scripts}
  </body>
</html>
"""


def page(request: Request) -> Response:
    """The GraphiQL page. A browser that opens `/graphql?query=…` is sent to
    `/graphql#query=…`: the page shows that query, and the response cache (keyed by URL,
    not by Accept) never stores HTML under a query's URL."""
    shared = {k: v for k, v in request.query_params.items() if k in ("query", "variables")}
    if shared:
        return RedirectResponse(f"graphql#{urlencode(shared)}", status_code=303)
    return HTMLResponse(
        _html(),
        headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"},
    )


@cache
def _read(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


async def asset(request: Request) -> Response:
    """`/static/graphiql/{name}`: only the files the manifest lists (no paths)."""
    name = request.path_params["name"]
    entry = manifest().get(name)
    if entry is None:
        return not_shipped()
    media_type = _TYPES.get(Path(name).suffix, "application/octet-stream")
    return immutable_file(request, _read(name), entry["sha256"], media_type)
