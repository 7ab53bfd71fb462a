"""Pure ASGI middleware (no BaseHTTPMiddleware: it would sit on the hot path): request
counts for /metrics."""

from __future__ import annotations

from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def route_label(path: str) -> str:
    """Bounded labels: ids are folded into `{id}`."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "v1" and parts[1] != "stats":
        return f"/v1/{parts[1]}/{{id}}"
    return "/" + "/".join(parts[:3])


class RequestCounter:
    def __init__(self, app: ASGIApp, counts: Counter[tuple[str, int]]) -> None:
        self.app = app
        self.counts = counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counts[(route_label(scope["path"]), message["status"])] += 1
            await send(message)

        await self.app(scope, receive, counting_send)
