"""The HTTP/1.1 protocol `open287g serve` runs: uvicorn's httptools protocol with the
bounds uvicorn lacks, checked while a request head is still arriving (before any ASGI code):

- **Head size**: more than OPEN287G_MAX_HEADER_BYTES read without the head being complete
  is a 431 and the connection is closed (uvicorn's httptools protocol has no bound at all;
  its h11 one has `h11_max_incomplete_event_size`, which `serve` also sets). The count is
  checked after each read, so at most the limit plus one socket read (≤ 256 KiB) is held.
- **Head timeout**: a head must be complete within OPEN287G_HEADER_TIMEOUT seconds of its
  first byte, and a new connection must send one within that time; otherwise 408 and the
  connection is closed. uvicorn's own `timeout_keep_alive` only covers the idle time
  between requests, and is cancelled by the first byte, so a client sending a byte every
  few seconds (slowloris) would hold a connection forever without this.

- **Open connections**: at most OPEN287G_MAX_CONNECTIONS_PER_CLIENT from one address (more
  are refused with 503) and OPEN287G_MAX_CONNECTIONS in all (the connection waiting longest
  for a request is closed to make room), kept under the descriptor limit: see
  `web/connections.py`.

The number of header fields is bounded in the app (`web/request_limits.py`, 431), which
also covers servers other than `open287g serve`. This subclasses uvicorn internals: the
real-server tests (tests/web/test_http_server_limits.py) break if an upgrade changes them.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from open287g.config import get_settings
from open287g.web.connections import (
    ConnectionTable,
    TrustedAddresses,
    connection_budget,
    descriptor_limit,
)

logger = logging.getLogger(__name__)
# One table per uvicorn server (its ServerState is shared by all its connections).
_tables: weakref.WeakKeyDictionary[object, ConnectionTable] = weakref.WeakKeyDictionary()
RETRY_AFTER_SECONDS = 1


def _raw_problem(status: int, reason: str, detail: str, extra: str = "") -> bytes:
    body = (
        f'{{"type":"about:blank","title":"{reason}","status":{status},"detail":"{detail}"}}'
    ).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n{extra}connection: close\r\n\r\n"
    ).encode()
    return head + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_head_bytes = settings.max_header_bytes
        self.head_timeout = settings.header_timeout
        self.head_bytes = 0
        self.in_head = True
        self.message_done = True  # the current request's body has been read to its end
        self.refused = False
        self.head_timer: asyncio.TimerHandle | None = None
        self.rest_timer: asyncio.TimerHandle | None = None
        self.table = _table(self)
        self.counted = False  # admitted, so counted in the table until it is lost
        self.address: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.address = self.client[0] if self.client else None
        refusal = self.table.admit(self.address)
        if refusal is not None:
            retry = f"retry-after: {RETRY_AFTER_SECONDS}\r\n"
            self._refuse(_raw_problem(503, "Service Unavailable", refusal, retry))
            return
        self.counted = True
        self.table.waiting_for_request(self, self._make_room)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_rest_timer()
        if self.counted:
            self.counted = False
            self.table.busy(self)
            self.table.release(self.address)
        super().connection_lost(exc)

    def _make_room(self) -> None:
        """Closed by the table at its limit: this connection waited longest for a request."""
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.in_head and self.head_bytes > self.max_head_bytes and not self.refused:
            detail = f"request head larger than {self.max_head_bytes} bytes"
            self._refuse(_raw_problem(431, "Request Header Fields Too Large", detail))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head = True
        self.message_done = False
        if self.head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self.table.busy(self)
        self.in_head = False
        self.head_bytes = 0
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.message_done = True
        if self.cycle is not None and self.cycle.response_complete:
            self._cancel_rest_timer()
            self._next_head()  # the answer went out before the body ended (a 405, say)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:  # idle until the next request
            self.table.waiting_for_request(self, self._make_room)
        if self.message_done:
            self._next_head()
        else:
            # Answered before the body ended: uvicorn discards the rest as it comes. Those
            # bytes belong to this request, not to the next head (counted as head bytes, a
            # refused 100 KB body became a 431 and a closed connection, which a keep-alive
            # client saw as a ReadError on its next request). They must come within the
            # head timeout, so that a body trickled after its answer cannot hold the
            # connection either.
            self.rest_timer = self.loop.call_later(self.head_timeout, self._rest_timed_out)

    def _next_head(self) -> None:
        # The next request's bytes count from here; uvicorn's keep-alive timer covers the
        # idle time until its first byte, the head timer the time from there to its last
        # header.
        self.in_head = True
        self.head_bytes = 0

    def _rest_timed_out(self) -> None:
        self.rest_timer = None
        if not self.message_done and not self.transport.is_closing():
            self.transport.close()

    def _cancel_rest_timer(self) -> None:
        if self.rest_timer is not None:
            self.rest_timer.cancel()
            self.rest_timer = None

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.transport.is_closing() or not self.in_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a response is still going out; judge the head after it
            return
        detail = f"request head not complete within {self.head_timeout:g} s"
        self._refuse(_raw_problem(408, "Request Timeout", detail))

    def _refuse(self, response: bytes) -> None:
        self.refused = True
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()


def _table(protocol: HttpToolsProtocol) -> ConnectionTable:
    """The connection table of `protocol`'s server, made with its first connection."""
    table = _tables.get(protocol.server_state)
    if table is None:
        settings = get_settings()
        config = protocol.config
        total = connection_budget(settings.max_connections, config.backlog, descriptor_limit())
        trusted = TrustedAddresses(config.forwarded_allow_ips if config.proxy_headers else None)
        table = ConnectionTable(
            total,
            settings.max_connections_per_client,
            trusted,
            call_later=protocol.loop.call_later,
        )
        _tables[protocol.server_state] = table
        logger.info(
            "connection limits: %d open in all, %d per client address", total, table.per_client
        )
    return table
