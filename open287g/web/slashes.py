"""Trailing-slash redirects whose `Location` comes from OPEN287G_PUBLIC_URL.

Starlette's own (`Router.redirect_slashes`) builds the `Location` from the request's
`Host` header, which the client chooses: `Host: evil.example` answered with
`location: http://evil.example/v1/agreements`, and a cache or proxy in front would hand
that to others. This one takes the base from the configuration, like every other
absolute link (Link headers, feeds, catalogues), and keeps the path percent-encoded, so
a path such as `//evil.example/` cannot become a scheme-relative link either.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import RedirectResponse
from starlette.routing import Match, Router
from starlette.types import Receive, Scope, Send

# What a path may keep unencoded in a Location: RFC 3986 pchar and "/".
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def install(router: Router, public_url: str) -> None:
    """Replace the router's slash redirects with ones built from `public_url`."""
    router.redirect_slashes = False
    not_found = router.default

    async def redirect_or_not_found(scope: Scope, receive: Receive, send: Send) -> None:
        target = _other_slash(router, scope)
        if target is None:
            await not_found(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        location = f"{public_url}{quote(target, safe=_PATH_SAFE)}" + (f"?{query}" if query else "")
        await RedirectResponse(location, status_code=307)(scope, receive, send)

    router.default = redirect_or_not_found


def _other_slash(router: Router, scope: Scope) -> str | None:
    """The path with its trailing slash added or removed, when a route answers that
    path; None otherwise (and for "/", and for anything but HTTP)."""
    path: str = scope["path"]
    if scope["type"] != "http" or path == "/":
        return None
    other = path.rstrip("/") if path.endswith("/") else path + "/"
    if not other.startswith("/") or other.startswith("//"):
        return None
    other_scope = {**scope, "path": other}
    if any(route.matches(other_scope)[0] is not Match.NONE for route in router.routes):
        return other
    return None
