"""Pure ASGI guard around every request that may reach the database.

1. **A client that leaves stops its work.** The handler runs in its own task; a watcher
   waits for `http.disconnect` and cancels that task when the client goes away before the
   response is complete. Cancelling the task that awaits asyncpg cancels the running query
   on the server (asyncpg sends a CancelRequest), so a hostile client cannot leave a scan
   running after it hangs up. The watcher never reads a request body ahead of the app (a
   body limit must see the bytes first): for a request with a body it starts watching only
   once the app has read all of it.
2. **A database that is briefly away is a 503.** An error `unavailable()` classifies that
   escapes the routes (e.g. raised in a middleware that reads the data version) becomes a
   problem document with `Retry-After` when nothing has been sent yet, never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.api.problems import unavailable_response
from open287g.db.errors import unavailable

UNGUARDED_PATHS = frozenset({"/healthz"})  # no database, and the cheapest possible answer


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


class _Exchange:
    """The receive side shared by the app and the watcher, never both reading at once."""

    def __init__(self, receive: Receive, first: Message | None) -> None:
        self._receive = receive
        self._first = first
        self.body_read = asyncio.Event()
        self.disconnected = asyncio.Event()
        if first is not None:
            self.body_read.set()

    async def app_receive(self) -> Message:
        if self._first is not None:
            message, self._first = self._first, None
            return message
        if self.body_read.is_set():
            await self.disconnected.wait()
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self.disconnected.set()
            self.body_read.set()
        elif not message.get("more_body", False):
            self.body_read.set()
        return message

    async def watch(self) -> None:
        await self.body_read.wait()
        while not self.disconnected.is_set():
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected.set()


class RequestGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNGUARDED_PATHS:
            await self.app(scope, receive, send)
            return
        first = None if _has_body(scope) else await receive()
        if first is not None and first["type"] == "http.disconnect":
            return  # gone before we started
        exchange = _Exchange(receive, first)
        started = complete = False

        async def guarded_send(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        async def run() -> None:
            await self.app(scope, exchange.app_receive, guarded_send)

        handler = asyncio.create_task(run())
        watcher = asyncio.create_task(exchange.watch())
        gone = asyncio.create_task(exchange.disconnected.wait())
        try:
            await asyncio.wait({handler, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not handler.done() and not complete:
                handler.cancel()  # the client left: stop its queries now
            with contextlib.suppress(asyncio.CancelledError):
                await handler
            if handler.cancelled():
                return
            error = handler.exception()
            if error is None:
                return
            if isinstance(error, Exception) and unavailable(error) and not started:
                await unavailable_response(scope["path"])(scope, exchange.app_receive, send)
                return
            raise error
        finally:
            for task in (handler, watcher, gone):
                task.cancel()
            for task in (handler, watcher, gone):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
