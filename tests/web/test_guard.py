"""`RequestGuard` (web/guard.py) as a plain ASGI layer: a client that leaves cancels the
work, the body is never read ahead of the app, an answer that never waits costs no task,
and a cancellation from outside still propagates. The real-server check that PostgreSQL
stops the query is tests/db/test_db_bounds.py::test_disconnect_cancels_the_query."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from starlette.types import Message, Receive, Scope, Send

from open287g.web.guard import RequestGuard

App = Callable[[Scope, Receive, Send], Awaitable[None]]


def http_scope(method: str = "GET", body: bytes = b"") -> Scope:
    headers = [(b"host", b"t")]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    return {"type": "http", "method": method, "path": "/v1/agreements", "headers": headers}


class Client:
    """The server side of one request: its messages, what was sent back, and a way to
    hang up. Like uvicorn, `receive` waits after the body until the client leaves."""

    def __init__(self, *chunks: bytes) -> None:
        self.pending: list[Message] = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks or (b"",))
        ]
        self.reads = 0
        self.left = asyncio.Event()
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.reads += 1
        if self.pending:
            return self.pending.pop(0)
        await self.left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def answer(send: Send, body: bytes = b"{}") -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def run_guarded(app: App, client: Client, scope: Scope | None = None) -> asyncio.Task[None]:
    task = asyncio.create_task(
        RequestGuard(app)(scope or http_scope(), client.receive, client.send)
    )
    await asyncio.sleep(0.01)
    return task


async def test_an_answer_that_never_waits_makes_no_task() -> None:
    seen: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(len(asyncio.all_tasks()))
        await answer(send)
        seen.append(len(asyncio.all_tasks()))

    client = Client()
    before = len(asyncio.all_tasks())
    await RequestGuard(app)(http_scope(), client.receive, client.send)
    assert seen == [before, before]
    assert client.sent[-1]["body"] == b"{}"
    await asyncio.sleep(0.01)  # the scheduled start was cancelled: nothing appears later
    assert len(asyncio.all_tasks()) == before
    assert client.reads == 1  # the request's one message, never a watcher's read


async def test_a_client_that_leaves_cancels_the_work() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await asyncio.sleep(30)  # a query stuck behind a lock
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    client = Client()
    task = await run_guarded(app, client)
    client.left.set()
    async with asyncio.timeout(2):
        await task  # returns normally: the cancellation was ours and is undone
    assert events == ["cancelled"]
    assert not task.cancelled()
    assert task.cancelling() == 0
    assert client.sent == []


async def test_work_after_a_complete_answer_is_not_cancelled() -> None:
    """Background work after the answer (Starlette's BackgroundTasks) survives a client
    that leaves once it has its answer."""
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0.02)
        await answer(send)
        await asyncio.sleep(0.05)
        events.append("finished")

    client = Client()
    task = await run_guarded(app, client)
    await asyncio.sleep(0.03)
    client.left.set()
    await task
    assert events == ["finished"]


async def test_the_body_is_read_by_the_app_first_then_watched() -> None:
    reads_before_app: list[int] = []
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0.02)  # the guard must not read ahead meanwhile
        reads_before_app.append(client.reads)
        body = b""
        while True:
            message = await receive()
            body += message["body"]
            if not message["more_body"]:
                break
        events.append(body.decode())
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    client = Client(b'{"query":', b'"{ x }"}')
    task = await run_guarded(app, client, http_scope("POST", b'{"query":"{ x }"}'))
    await asyncio.sleep(0.03)
    client.left.set()
    async with asyncio.timeout(2):
        await task
    assert reads_before_app == [0]
    assert events == ['{"query":"{ x }"}', "cancelled"]


async def test_an_app_waiting_on_receive_is_stopped_when_the_client_leaves() -> None:
    """A streaming answer listening for the client (Starlette's StreamingResponse) waits
    on `receive` after the body: it never reads the socket itself (the watcher does), and
    it is cancelled there like any other wait."""
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "http.request"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        try:
            await receive()
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    client = Client()
    task = await run_guarded(app, client)
    assert client.reads == 2  # the request's message, then the watcher's one read
    client.left.set()
    async with asyncio.timeout(2):
        await task
    assert events == ["cancelled"]


async def test_receive_after_a_complete_answer_says_disconnect() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await asyncio.sleep(0)
        await answer(send)
        assert await receive() == {"type": "http.disconnect"}

    client = Client()
    async with asyncio.timeout(2):
        await RequestGuard(app)(http_scope(), client.receive, client.send)
    assert client.sent[-1]["body"] == b"{}"


async def test_leaving_mid_body_cancels_what_follows() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["more_body"]
        events.append((await receive())["type"])
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    client = Client(b"12345")
    client.pending[0]["more_body"] = True
    client.left.set()
    task = await run_guarded(app, client, http_scope("POST", b"1234567890"))
    async with asyncio.timeout(2):
        await task
    assert events == ["http.disconnect", "cancelled"]
    assert task.cancelling() == 0


async def test_a_cancellation_from_outside_propagates() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(30)

    client = Client()
    task = await run_guarded(app, client)
    task.cancel()  # the server shutting down
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_database_outage_before_the_answer_is_503() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0)
        raise asyncpg.exceptions.CannotConnectNowError("starting up")

    client = Client()
    await RequestGuard(app)(http_scope(), client.receive, client.send)
    assert client.sent[0]["status"] == 503
    assert (b"retry-after", b"5") in client.sent[0]["headers"]


async def test_gone_before_the_start_runs_nothing() -> None:
    ran: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        ran.append(True)

    client = Client()
    client.pending = [{"type": "http.disconnect"}]
    await RequestGuard(app)(http_scope(), client.receive, client.send)
    assert ran == []
