"""`/static/pages/{name}`: the pages' own stylesheet. Pages ask for it as
`?v=<sha256 prefix>` (`render.asset_url`), so it is cached for a year and a changed file is
a new URL. Only files in static/ by exact name are served (no paths)."""

from __future__ import annotations

from functools import cache

from starlette.requests import Request
from starlette.responses import Response

from open287g.pages.render import STATIC, static_version
from open287g.web.static import immutable_file, not_shipped

_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@cache
def _files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in STATIC.iterdir() if p.suffix in _TYPES}


async def asset(request: Request) -> Response:
    name = request.path_params["name"]
    body = _files().get(name)
    if body is None:
        return not_shipped()
    return immutable_file(request, body, static_version(name), _TYPES[name[name.rfind(".") :]])
