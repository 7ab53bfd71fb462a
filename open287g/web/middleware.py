"""Pure ASGI middleware (no BaseHTTPMiddleware: it would sit on the hot path): request
counts and durations for /metrics, and one access log line per request.

Labels are route templates (`/v1/agreements/{id}`), never the request path: a label set
must be bounded, and a path is whatever a client typed (random segments, control
characters). A request no route matches counts under `unmatched`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.web.observability import AccessLog, Durations

UNMATCHED = "unmatched"
MAX_REMEMBERED_PATHS = 4096  # each a path a client typed: bounded, then forgotten at once


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


class RouteLabels:
    """`route_label`, remembered per path: a cache hit is answered before routing, and
    matching it against every route's pattern again cost more than the rest of the hit's
    bookkeeping. Which route a path matches depends only on the path (and the root path):
    methods only make a match partial, which labels it the same."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = routes
        self.by_path: dict[tuple[str, str], str] = {}

    def __call__(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None:
            path = getattr(route, "path", None)
            return path if isinstance(path, str) else UNMATCHED
        key = (scope.get("root_path", ""), scope["path"])
        label = self.by_path.get(key)
        if label is None:
            label = route_label(scope, self.routes)
            if len(self.by_path) >= MAX_REMEMBERED_PATHS:
                self.by_path.clear()
            self.by_path[key] = label
        return label


class RequestCounter:
    """Outermost: counts and times every answer (by route template and status) and logs it.

    The log line's `cache` is `hit` or `miss` for cacheable answers (X-Cache), else absent;
    `data_version` is the version the answer was read at (X-Data-Version); `read_from` the
    server reads went to when a replica is configured (`replica` or `primary`). The line is
    formatted here and handed to `access_log`'s writer thread (`web/observability.py`)."""

    def __init__(
        self,
        app: ASGIApp,
        counts: Counter[tuple[str, int]],
        routes: Sequence[BaseRoute],
        durations: Durations | None = None,
        access_log: AccessLog | None = None,
    ) -> None:
        self.app = app
        self.counts = counts
        self.label = RouteLabels(routes)
        self.durations = durations if durations is not None else Durations()
        self.access_log = access_log if access_log is not None else AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        route = ""

        async def counting_send(message: Message) -> None:
            nonlocal status, headers, route
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                route = self.label(scope)
                self.counts[(route, status)] += 1
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            seconds = time.perf_counter() - started
            route = route or self.label(scope)
            self.durations.observe(route, seconds)
            if self.access_log.enabled():
                self._log(scope, route, status, seconds, headers)

    def _log(
        self,
        scope: Scope,
        route: str,
        status: int,
        seconds: float,
        headers: list[tuple[bytes, bytes]],
    ) -> None:
        fields: dict[str, Any] = {
            "event": "request",
            "method": scope["method"],
            "route": route,
            "status": status or None,  # None: the client left before an answer
            "duration_ms": round(seconds * 1000, 2),
        }
        version = cache = None
        for name, value in headers:
            lowered = name.lower()
            if lowered == b"x-data-version":
                version = value
            elif lowered == b"x-cache":
                cache = value
        if version is not None:
            fields["cache"] = "hit" if cache == b"HIT" else "miss"
            fields["data_version"] = int(version)
        router = getattr(scope["app"].state, "read_router", None) if "app" in scope else None
        if router is not None:
            fields["read_from"] = router.serving
        self.access_log.request(fields)
