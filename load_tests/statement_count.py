"""Count the SQL statements a server executes, from the outside: a TCP proxy in front of
PostgreSQL that reads the client's side of the wire protocol.

pg_stat_statements needs a server restart and `log_statement` needs the server's log file;
this needs neither. Every simple Query ('Q') and every Execute ('E', resolved to its text
through Bind and Parse) is one statement. The proxy declines SSL/GSS encryption itself, so
the stream stays readable; it is for loopback benchmarks only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import struct
from dataclasses import dataclass, field

from sqlalchemy.engine import URL

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
# Not the work a request asks for: transaction control, settings and pool pings.
_OVERHEAD = re.compile(
    r"\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|SAVEPOINT|RELEASE|SET|RESET|SHOW|;|$"
    r"|SELECT\s+1\s*;?\s*$|SELECT\s+pg_advisory_unlock_all|CLOSE\s+ALL|UNLISTEN|DISCARD)",
    re.IGNORECASE,
)


def is_overhead(statement: str) -> bool:
    return _OVERHEAD.match(statement) is not None


@dataclass
class StatementCounter:
    """Listens on a loopback port and forwards to `host`:`port`; `executed` grows with the
    text of every statement any client runs through it."""

    host: str
    port: int
    socket_dir: str | None = None  # PostgreSQL's Unix socket directory, instead of TCP
    executed: list[str] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @classmethod
    def in_front_of(cls, url: URL) -> StatementCounter:
        """A proxy for the server `url` names, by TCP or by its Unix socket (libpq's
        `?host=/dir`, as the embedded server's URL has it)."""
        found = url.query.get("host")
        socket_dir = found[0] if isinstance(found, tuple) else found
        if socket_dir is not None and not socket_dir.startswith("/"):
            socket_dir = None
        return cls(url.host or "127.0.0.1", url.port or 5432, socket_dir)

    async def proxied(self, url: URL) -> URL:
        """Start the proxy; `url` pointed at it (over loopback TCP)."""
        port = await self.start()
        return url.difference_update_query(["host"]).set(host="127.0.0.1", port=port)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    def since(self, start: int) -> tuple[int, int]:
        """(work statements, overhead statements) executed after the first `start`."""
        later = self.executed[start:]
        overhead = sum(1 for statement in later if is_overhead(statement))
        return len(later) - overhead, overhead

    async def _connection(self, client: asyncio.StreamReader, out: asyncio.StreamWriter) -> None:
        if self.socket_dir is not None:
            path = f"{self.socket_dir}/.s.PGSQL.{self.port}"
            server_in, server_out = await asyncio.open_unix_connection(path)
        else:
            server_in, server_out = await asyncio.open_connection(self.host, self.port)
        pipes = [
            asyncio.create_task(self._client_side(client, out, server_out)),
            asyncio.create_task(_copy(server_in, out)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            for writer in (out, server_out):
                writer.close()

    async def _client_side(
        self,
        client: asyncio.StreamReader,
        client_out: asyncio.StreamWriter,
        server: asyncio.StreamWriter,
    ) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:  # untyped start-up messages: decline encryption, forward the rest
                head = await client.readexactly(8)
                length, code = struct.unpack("!ii", head)
                rest = await client.readexactly(length - 8)
                if code not in (SSL_REQUEST, GSSENC_REQUEST):
                    server.write(head + rest)
                    break
                client_out.write(b"N")
            statements: dict[bytes, str] = {}
            portals: dict[bytes, str] = {}
            while True:
                head = await client.readexactly(5)
                body = await client.readexactly(int.from_bytes(head[1:], "big") - 4)
                self._read(head[:1], body, statements, portals)
                server.write(head + body)
                await server.drain()

    def _read(
        self, kind: bytes, body: bytes, statements: dict[bytes, str], portals: dict[bytes, str]
    ) -> None:
        if kind == b"Q":
            self.executed.append(body.split(b"\0", 1)[0].decode(errors="replace"))
        elif kind == b"P":
            name, query, _ = body.split(b"\0", 2)
            statements[name] = query.decode(errors="replace")
        elif kind == b"B":
            portal, name, _ = body.split(b"\0", 2)
            portals[portal] = statements.get(name, "?")
        elif kind == b"E":
            self.executed.append(portals.get(body.split(b"\0", 1)[0], "?"))


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
