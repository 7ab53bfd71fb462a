"""The one error format of the HTTP API: RFC 9457 `application/problem+json`.

A database that is briefly out of reach (down, restarting, connection dropped, every pooled
connection busy, a statement or lock timeout) is a 503 with `Retry-After`, never a 500 and
never the driver's text: clients and proxies retry 503s, and the text names server internals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from open287g.db.errors import RETRY_AFTER_SECONDS, unavailable

PROBLEM_MEDIA_TYPE = "application/problem+json"
LOG_EVERY_SECONDS = 5.0
MAX_INSTANCE_CHARS = 256

logger = logging.getLogger(__name__)


class Problem(Exception):
    """Raise from any route to answer with a problem document."""

    def __init__(
        self, status: int, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


# What the database layer raises: each is classified by `unavailable()` (503 or 500).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)

UNAVAILABLE_DETAIL = "The database is briefly unavailable; retry after the Retry-After delay."


def retry_later(detail: str = UNAVAILABLE_DETAIL) -> Problem:
    """A 503 the client should retry: the service is fine, a resource is briefly short."""
    return Problem(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def problem_response(
    status: int,
    detail: str,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance and len(instance) <= MAX_INSTANCE_CHARS:  # never echo a flood back
        body["instance"] = instance
    body.update(extra)
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def unavailable_response(instance: str | None = None) -> Response:
    problem = retry_later()
    return problem_response(problem.status, problem.detail, instance, problem.headers)


async def handle_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.detail, request.url.path, exc.headers, **exc.extra)


async def handle_client_error(request: Request, exc: Exception) -> Response:
    """Bad input found below the routes (cursor, id, state): a 400 with its message."""
    return problem_response(400, str(exc), request.url.path)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = (
        exc.detail
        if exc.detail != HTTPStatus(exc.status_code).phrase
        else _default_detail(exc.status_code, request)
    )
    return problem_response(exc.status_code, detail, request.url.path, exc.headers)


async def handle_database_error(request: Request, exc: Exception) -> Response:
    """Database and network errors: 503 + Retry-After when they mean "try again soon",
    otherwise an unexpected error like any other."""
    if unavailable(exc):
        _log_unavailable(request, exc)
        return unavailable_response(request.url.path)
    return await handle_unexpected(request, exc)


_outage_log = {"last": 0.0, "quiet": 0}


def _log_unavailable(request: Request, exc: Exception) -> None:
    """One warning per LOG_EVERY_SECONDS during an outage (with how many were not
    logged), not one per request: an outage under load must not flood the log."""
    now = time.monotonic()
    if now - _outage_log["last"] < LOG_EVERY_SECONDS:
        _outage_log["quiet"] += 1
        return
    logger.warning(
        "database unavailable (%s) on %s %s; %d more such answers since the last warning",
        type(exc).__name__,
        request.method,
        request.url.path,
        _outage_log["quiet"],
    )
    _outage_log.update(last=now, quiet=0)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Never a traceback to the client; the server log has it."""
    if unavailable(exc):  # raised outside the routes (a middleware reading the database)
        return unavailable_response(request.url.path)
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500, "An unexpected error occurred; it has been logged.", request.url.path
    )


def _default_detail(status: int, request: Request) -> str:
    if status == 404:
        return f"No resource at {request.url.path}."
    if status == 405:
        return f"{request.method} is not allowed on {request.url.path}."
    return HTTPStatus(status).description
