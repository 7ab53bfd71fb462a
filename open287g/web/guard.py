"""Pure ASGI guard around every request that may reach the database.

1. **A client that leaves stops its work.** A watcher waits for `http.disconnect` and
   cancels the request's task when the client goes away before the response is complete.
   Cancelling the task that awaits asyncpg cancels the running query on the server
   (asyncpg sends a CancelRequest), so a hostile client cannot leave a scan running after
   it hangs up. The watcher never reads a request body ahead of the app (a body limit must
   see the bytes first): it starts only once the app has read all of it.
2. **A database that is briefly away is a 503.** An error `unavailable()` classifies that
   escapes the routes (e.g. raised in a middleware that reads the data version) becomes a
   problem document with `Retry-After` when nothing has been sent yet, never a 500.

Why it is shaped this way: it sits on the hot path, and a cache hit is answered without
the task ever waiting (nothing to cancel). So the app runs in the request's own task, not a
new one, and the watcher task is made only when the request first waits: a callback
scheduled with `call_soon` runs at the loop's next turn, which comes only if the app
suspends (on SQL, Redis, a slow socket). An answer given without waiting costs one
cancelled callback, and no task. The cancellation is ours to undo (`Task.uncancel`), so the
server and outer layers see a normal return; a cancellation from outside (shutdown) still
propagates.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.db.errors import unavailable
from open287g.web.problems import unavailable_response

UNGUARDED_PATHS = frozenset({"/healthz"})  # no database, and the cheapest possible answer
_DISCONNECT: Message = {"type": "http.disconnect"}


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


class _Watch:
    """One request's receive side, shared by the app and the watcher, never both reading at
    once: the watcher reads only after the body is complete, and from then on the app's
    `receive` waits for what the watcher sees."""

    __slots__ = (
        "body_read",
        "cancelled",
        "finished",
        "first",
        "gone",
        "handle",
        "loop",
        "receive",
        "task",
        "waiter",
        "watcher",
    )

    def __init__(self, receive: Receive, first: Message | None) -> None:
        task = asyncio.current_task()
        assert task is not None  # an ASGI app runs in a task
        self.task = task
        self.loop = task.get_loop()
        self.receive = receive
        self.first = first  # a body-less request's one message, replayed to the app
        self.body_read = first is not None  # from then on, only a disconnect can come
        self.finished = False  # the response is complete: nothing left to cancel
        self.gone = False  # the client left
        self.cancelled = False  # we cancelled `task` and have not undone it yet
        self.handle: asyncio.Handle | None = None
        self.watcher: asyncio.Task[None] | None = None
        self.waiter: asyncio.Future[None] | None = None
        if first is not None:
            self.handle = self.loop.call_soon(self._start)

    def _start(self) -> None:
        self.handle = None
        if not self.finished and self.watcher is None:
            self.watcher = self.loop.create_task(self._watch())

    async def _watch(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        self._left()

    def _left(self) -> None:
        self.gone = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        if not self.finished and not self.cancelled:
            self.cancelled = True
            self.task.cancel()  # the client left: stop its queries now

    async def app_receive(self) -> Message:
        if self.first is not None:
            message, self.first = self.first, None
            return message
        if self.body_read:
            return await self._until_gone()
        message = await self.receive()
        if message["type"] == "http.disconnect":
            # Left mid-body: the app hears it now, and its work is cancelled at its next
            # wait (a task cancelling itself would cancel whatever it awaits next, even
            # after this layer returned).
            self.body_read = self.gone = True
            self.handle = self.loop.call_soon(self._left)
        elif not message.get("more_body", False):
            self.body_read = True
            self.handle = self.loop.call_soon(self._start)
        return message

    async def _until_gone(self) -> Message:
        if not self.gone and not self.finished:  # (after the response: the client is done)
            if self.watcher is None:
                self._start()
            if self.waiter is None:
                self.waiter = self.loop.create_future()
            await self.waiter
        return _DISCONNECT

    def stop(self) -> bool:
        """Stops watching; True when the task's only pending cancellation was ours."""
        self.finished = True
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
        if self.watcher is not None:
            self.watcher.cancel()
        if not self.cancelled:
            return False
        self.cancelled = False
        return self.task.uncancel() == 0


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
        watch = _Watch(receive, first)
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                watch.finished = True
            await send(message)

        try:
            try:
                await self.app(scope, watch.app_receive, guarded_send)
            except Exception as error:
                if not unavailable(error) or started:
                    raise
                await unavailable_response(scope["path"])(scope, watch.app_receive, send)
        except asyncio.CancelledError:
            if not watch.stop():
                raise  # not (only) ours: shutting down
        finally:
            watch.stop()
