"""Redis as an optional helper: one client with short socket timeouts behind a circuit
breaker, shared by the response cache and the rate limiter.

Redis only ever makes answers faster or fairer, so losing it must cost nothing but that:
every call through `RedisLink.call` either returns Redis's answer or `None` (the caller then
does without), never raises. After a failure the breaker opens and Redis is not asked again
for `RETRY_SECONDS`, so an outage costs one short timeout per interval instead of one per
request; the first call after that interval probes Redis and closes the breaker when it
answers (recovery needs no restart).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_SECONDS = 0.25
RETRY_SECONDS = 3.0
T = TypeVar("T")


class CircuitBreaker:
    """Closed (calls go through) → open after a failure (calls skipped) → after
    `retry_seconds` one call is let through as a probe (half-open)."""

    def __init__(self, retry_seconds: float = RETRY_SECONDS) -> None:
        self.retry_seconds = retry_seconds
        self.opened_at: float | None = None
        self.probing = False
        self.failures = 0
        self.last_error: str | None = None

    @property
    def state(self) -> Literal["closed", "open", "half-open"]:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.probing else "open"

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if self.probing or time.monotonic() - self.opened_at < self.retry_seconds:
            return False
        self.probing = True  # exactly one probe at a time
        return True

    def succeeded(self) -> None:
        if self.opened_at is not None:
            logger.warning("Redis answers again; using it")
        self.opened_at = None
        self.probing = False
        self.last_error = None

    def failed(self, exc: BaseException) -> None:
        if self.opened_at is None:
            logger.warning("Redis unavailable (%s); doing without it", type(exc).__name__)
        self.failures += 1
        self.opened_at = time.monotonic()
        self.probing = False
        self.last_error = type(exc).__name__


class RedisLink:
    """The one Redis client of a process, with its breaker."""

    def __init__(self, url: str, retry_seconds: float = RETRY_SECONDS) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # No retries inside the client: the breaker decides when to try again.
        self.client: Any = redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
        )
        self.breaker = CircuitBreaker(retry_seconds)

    async def call(self, operation: Callable[[Any], Awaitable[T]]) -> T | None:
        """`operation(client)`'s result, or None when Redis is out (breaker open or the
        call failed); never raises for a Redis or network failure."""
        if not self.breaker.allow():
            return None
        try:
            result = await operation(self.client)
        except Exception as exc:  # any failure of an optional dependency: do without it
            was_closed = self.breaker.state == "closed"
            self.breaker.failed(exc)
            if was_closed:
                await self._drop_connections()
            return None
        self.breaker.succeeded()
        return result

    async def _drop_connections(self) -> None:
        """Pooled connections to a Redis that failed are likely dead (it restarted, or the
        network did): drop them all, so the probe after the pause starts afresh instead of
        meeting one stale connection after another, each reopening the breaker."""
        try:
            await self.client.connection_pool.disconnect()
        except Exception:  # already broken; nothing more to release
            logger.debug("dropping Redis connections failed", exc_info=True)

    def status(self) -> dict[str, Any]:
        """For /readyz: "ok", or "unavailable" with the last error (the service still works)."""
        if self.breaker.state == "closed":
            return {"backend": "redis", "state": "ok"}
        return {"backend": "redis", "state": "unavailable", "error": self.breaker.last_error}

    async def aclose(self) -> None:
        try:
            await self.client.aclose(close_connection_pool=True)
        except Exception:  # closing a link to a dead server must not fail shutdown
            logger.debug("closing the Redis client failed", exc_info=True)
