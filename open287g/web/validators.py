"""Conditional GETs for endpoints that are not /v1 routes (GraphQL GET, /data.json,
/datapackage.json, /v1/changes.atom), with the same helpers the /v1 routes use
(`web/responses.py`): an ETag that changes only with the data version and the request,
`Last-Modified`, `Cache-Control`, and a 304 for `If-None-Match` / `If-Modified-Since`
answered before the endpoint does any work.

The data version comes from the app's `VersionClock` (re-read at most every
OPEN287G_VERSION_CHECK_SECONDS, the same clock that keys the response cache). It is read
before the body is built, so a validator can only lag the data, never run ahead of it:
the worst case is one extra 200, never a wrong 304. GraphQL reads its version with its
data (`graphql/versioned.py`) and sends its own validators, which are kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.db.queries.changes import DataVersion
from open287g.web.responses import cache_headers, etag_for, not_modified

_VERSIONED = frozenset({"ETag", "Last-Modified", "Cache-Control", "X-Data-Version"})


class Validated:
    """Wraps an endpoint (an ASGI app) with validators for its GET answers. `needs_query`:
    only GETs with that parameter, from a client not asking for HTML, are data (GET
    /graphql is GraphiQL for a browser); those answers say `Vary: Accept`."""

    def __init__(
        self,
        app: ASGIApp,
        version: Callable[[], Awaitable[DataVersion]],
        needs_query: str | None = None,
    ) -> None:
        self.app = app
        self.version = version
        self.needs_query = needs_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        if scope["method"] not in ("GET", "HEAD") or (
            self.needs_query is not None
            and (
                self.needs_query not in request.query_params
                or "text/html" in request.headers.get("accept", "")  # GraphiQL, not data
            )
        ):
            await self.app(scope, receive, send)
            return
        try:
            version = await self.version()
        except Exception:  # database out: the endpoint answers for itself (503)
            await self.app(scope, receive, send)
            return
        etag = etag_for(request, version)
        unchanged = not_modified(request, etag, version)
        if unchanged is not None:
            await unchanged(scope, receive, send)
            return
        headers = cache_headers(etag, version)
        if self.needs_query is not None:
            headers["Vary"] = "Accept"  # the same URL is a page for browsers

        async def send_with_validators(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                response_headers = MutableHeaders(scope=message)
                # An endpoint that read its own version (GraphQL) says which: keep it.
                own = "x-data-version" in response_headers
                for name, value in headers.items():
                    if not (own and name in _VERSIONED):
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_validators)
