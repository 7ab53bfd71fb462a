"""Which database failures mean "try again soon" rather than "a bug".

Both APIs ask `unavailable()` about an exception before masking it: PostgreSQL down, a
connection dropped, the pool exhausted or a statement timed out are answered with 503 and
`Retry-After` (REST) or a masked error with the same HTTP status (GraphQL), never with the
driver's text. Anything else stays an unexpected error (500, logged).
"""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import exc as sa

RETRY_AFTER_SECONDS = 5

# asyncpg's own classes for "the server or the connection is gone / refused us".
_UNAVAILABLE_DRIVER = (
    asyncpg.exceptions.CannotConnectNowError,  # starting up / shutting down
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.QueryCanceledError,  # statement_timeout, or cancelled on disconnect
    asyncpg.exceptions.LockNotAvailableError,  # lock_timeout
    asyncpg.exceptions.InterfaceError,  # "connection is closed" and the like
    # The server ended the session while the connection sat idle (a replica or PostgreSQL
    # stopping sends FATAL, then closes): asyncpg could not place that message, and the
    # next statement finds "another operation in progress" until the close arrives.
    asyncpg.exceptions.InternalClientError,
)


def unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says the database is briefly out of reach."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.TimeoutError):  # QueuePool: no connection free in time
            return True
        if isinstance(current, sa.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNAVAILABLE_DRIVER):
            return True
        if isinstance(current, (OSError, asyncio.TimeoutError, ConnectionError)):
            return True
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )
    return False
