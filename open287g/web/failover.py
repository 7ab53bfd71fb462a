"""Read failover: a request that met a database error while reading from the replica is
answered again from the primary, so a replica that stops costs no error.

The routes turn a database error into a 503 (`web/problems.py`); this middleware holds back
such a 503 (nothing has been sent yet) and asks the `ReadRouter` to probe the replica at
once. When the replica is out the router has just pointed reads at the primary, and the
request runs again, its body replayed (GET has none; a GraphQL POST body is at most
OPEN287G_MAX_BODY_BYTES). A 503 that came within FAST_FAILURE_SECONDS is a refused or
dropped connection and runs again once wherever reads now go; a slower one (a statement
timeout, a busy pool) was not the replica's fault and is sent as it was.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.db.errors import unavailable
from open287g.db.replica import ReadRouter

FAST_FAILURE_SECONDS = 1.0


class ReplicaFailover:
    """Installed when a replica is configured; the router (`app.state.read_router`) is
    made at startup."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router: ReadRouter | None = (
            getattr(scope["app"].state, "read_router", None) if "app" in scope else None
        )
        if scope["type"] != "http" or router is None or router.serving != "replica":
            await self.app(scope, receive, send)
            return
        received: list[Message] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                received.append(message)
            return message

        held: list[Message] = []
        sent = False

        async def holding_send(message: Message) -> None:
            nonlocal sent
            if held or (message["type"] == "http.response.start" and message["status"] == 503):
                held.append(message)  # a 503: wait until we know whose fault it was
            else:
                sent = True
                await send(message)

        started = time.monotonic()
        try:
            await self.app(scope, recording_receive, holding_send)
        except Exception as exc:
            if sent or not (unavailable(exc) and not await router.check(max_age=0.0)):
                raise
        else:
            # A 503 that came at once is a connection the replica dropped or refused (its
            # stop, or a pooled connection from before its restart): answer again even when
            # the probe finds the replica up by now. A slow one (statement or pool timeout)
            # was not the replica's fault and is sent as it was.
            if held and time.monotonic() - started < FAST_FAILURE_SECONDS:
                await router.check(max_age=0.0)
            elif not held or await router.check(max_age=0.0):
                for message in held:
                    await send(message)
                return
        replayed = list(received)

        async def replaying_receive() -> Message:
            return replayed.pop(0) if replayed else await receive()

        await self.app(scope, replaying_receive, send)  # reads now go to the primary
