"""How many connections `open287g serve` holds open, in total and per client address.

A connection that sends nothing costs the server one file descriptor and nothing else, so
an idle flood (27,000 sockets from three addresses, issue #23) used to exhaust the
process's descriptors in seconds: then nothing, not even `/healthz`, could be accepted.
The rules, checked when a connection is accepted (`web/protocol.py`):

- **Per client address**: more than `per_client` open connections from one address are
  refused at once (`503`, `Retry-After`, then closed). Addresses trusted to forward for
  others (`--forwarded-allow-ips`, a reverse proxy) are exempt: every client behind them
  shares their address.
- **In total**: at `total` open connections a new one closes the connection that has
  waited longest for a request (never one whose request is being answered): an idle
  keep-alive or silent socket is worth less than a client that is connecting now, so
  holding idle sockets cannot keep anyone out. Only when every connection is busy is the
  new one refused (`503`).
- `total` is also kept under the process's file-descriptor limit (less what the database
  pool, files and one accept burst need), so accepting never fails for want of one.

Refusals and evictions are logged as `connection limits: …`, at most one line a second,
with their counts and the addresses refused most.
"""

from __future__ import annotations

import ipaddress
import logging
import resource
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# Descriptors kept for everything but client sockets: database and Redis connections,
# files, the listening socket, pipes (one process holds at most about 40 of these).
RESERVED_DESCRIPTORS = 256
LOG_EVERY_SECONDS = 1.0


def descriptor_limit() -> int:
    """The soft limit on open files, raised to the hard limit when that is possible."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # not allowed here: keep the soft limit
            pass
    return soft


def connection_budget(configured: int, backlog: int, limit: int) -> int:
    """At most `configured` connections, and few enough that one burst of `backlog`
    accepts (asyncio accepts up to that many before any is handed to us, so before any
    can be refused or evicted) still finds descriptors free."""
    return max(1, min(configured, limit - RESERVED_DESCRIPTORS - backlog))


class TrustedAddresses:
    """`--forwarded-allow-ips` as addresses and networks (`*`: every address)."""

    def __init__(self, spec: str | Iterable[str] | None) -> None:
        items = [spec] if isinstance(spec, str) else list(spec or [])
        names = [part.strip() for item in items for part in item.split(",") if part.strip()]
        self.everyone = "*" in names
        self.networks = []
        for name in names:
            try:
                self.networks.append(ipaddress.ip_network(name, strict=False))
            except ValueError:
                continue  # a host name or `unix:`: uvicorn's own trust rules still apply

    def __contains__(self, address: str) -> bool:
        if self.everyone:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)


@dataclass
class ConnectionTable:
    """The open connections of one server (one event loop)."""

    total: int
    per_client: int
    trusted: TrustedAddresses = field(default_factory=lambda: TrustedAddresses(None))
    # Schedules the summary of a burst that ended less than a second after the last one.
    call_later: Callable[[float, Callable[[], None]], object] | None = None
    clock: Callable[[], float] = time.monotonic
    open: int = 0
    by_client: Counter[str] = field(default_factory=Counter)
    # Connections waiting for a request, oldest first (a dict keeps insertion order).
    waiting: dict[object, Callable[[], None]] = field(default_factory=dict)
    # Since the last log line: refusals by address, refusals when all were busy, evictions.
    refused: Counter[str] = field(default_factory=Counter)
    refused_busy: int = 0
    evicted: int = 0
    last_log: float = float("-inf")
    flush_pending: bool = False

    def admit(self, client: str | None) -> str | None:
        """Count a new connection from `client`; None, or why it is refused. At the total
        limit the connection waiting longest for a request is closed to make room."""
        if (
            client is not None
            and self.by_client[client] >= self.per_client
            and client not in self.trusted
        ):
            self.refused[client] += 1
            self._noted()
            return f"more than {self.per_client} open connections from your address"
        if self.open >= self.total:
            if not self.waiting:
                self.refused_busy += 1
                self._noted()
                return f"the server holds its limit of {self.total} open connections"
            oldest = next(iter(self.waiting))
            self.waiting.pop(oldest)()
            self.evicted += 1
            self._noted()
        self.open += 1
        if client is not None:
            self.by_client[client] += 1
        return None

    def release(self, client: str | None) -> None:
        self.open -= 1
        if client is not None:
            self.by_client[client] -= 1
            if self.by_client[client] <= 0:
                del self.by_client[client]

    def waiting_for_request(self, connection: object, close: Callable[[], None]) -> None:
        """`connection` has no request in progress (new, or between keep-alive requests):
        it may be closed to make room, the longest waiting first."""
        self.waiting.pop(connection, None)
        self.waiting[connection] = close

    def busy(self, connection: object) -> None:
        self.waiting.pop(connection, None)

    def _noted(self) -> None:
        if self.clock() - self.last_log >= LOG_EVERY_SECONDS:
            self.log()
        elif not self.flush_pending and self.call_later is not None:
            self.flush_pending = True
            self.call_later(LOG_EVERY_SECONDS, self.log)

    def log(self) -> None:
        """One line for everything refused or closed since the last one."""
        self.flush_pending = False
        if not (self.refused or self.refused_busy or self.evicted):
            return
        top = ", ".join(f"{client} {count}" for client, count in self.refused.most_common(3))
        logger.warning(
            "connection limits: refused %d over %d per address (most: %s), refused %d at"
            " the limit of %d with every connection busy, closed %d waiting connections to"
            " make room; open now %d from %d addresses",
            self.refused.total(),
            self.per_client,
            top or "none",
            self.refused_busy,
            self.total,
            self.evicted,
            self.open,
            len(self.by_client),
        )
        self.refused.clear()
        self.refused_busy = self.evicted = 0
        self.last_log = self.clock()
