"""Pure ASGI middleware (no BaseHTTPMiddleware: it would sit on the hot path): request
counts for /metrics.

Labels are route templates (`/v1/agreements/{id}`), never the request path: a label set
must be bounded, and a path is whatever a client typed (random segments, control
characters). A request no route matches counts under `unmatched`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"


def route_label(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The template of the route that answered (Starlette records it in the scope), or of
    the route that would have, for answers given before routing (429, 413, preflights)."""
    route = scope.get("route")
    if route is None:
        for candidate in routes:
            match, _ = candidate.matches(scope)
            if match is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class RequestCounter:
    def __init__(
        self, app: ASGIApp, counts: Counter[tuple[str, int]], routes: Sequence[BaseRoute]
    ) -> None:
        self.app = app
        self.counts = counts
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counts[(route_label(scope, self.routes), message["status"])] += 1
            await send(message)

        await self.app(scope, receive, counting_send)
