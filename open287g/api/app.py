"""The ASGI application factory.

Middleware order, outermost first (each runs around everything below it):

1. `RequestCounter` — counts every answer for /metrics, including those the layers below
   give without reaching a route (413, 429, 431, preflights), by route template.
2. `ResponseHeaders` — CORS (`Access-Control-Allow-Origin: *` on every answer, preflights
   answered here) and security headers. Outside the cache, the limits and the app, so a
   cache hit, a 429 or a 413 carries them as surely as a fresh answer: what the cache
   stores never depends on `Origin`.
3. `RequestLimits` — 431 for too many or too large headers, 413 for a body over the limit
   (by Content-Length before reading it, or counted as it streams): before any layer that
   might read or buffer a body.
4. `RateLimit` — charges the client's token bucket before any work (cache lookups, SQL)
   and answers 429; outside the cache so hits are charged too (they still cost a little).
5. `RequestGuard` — cancels the work of a client that left; database outages become 503.
6. `ResponseCacheMiddleware` — innermost: stores only what the app answers for a path,
   query and data version, which no outer layer's per-request headers can poison.

Endpoints outside /v1 that serve data (GraphQL GET, /data.json, /datapackage.json,
/v1/changes.atom) are wrapped in `Validated` (ETag, Last-Modified, Cache-Control, 304).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, request_response
from starlette.types import Scope

from open287g.api import discovery, openapi, problems
from open287g.api.breaker import RedisLink
from open287g.api.cache import (
    MemoryCache,
    RedisCache,
    ResponseCache,
    ResponseCacheMiddleware,
    VersionClock,
)
from open287g.api.guard import RequestGuard
from open287g.api.headers import ResponseHeaders
from open287g.api.health import healthz, readyz
from open287g.api.middleware import RequestCounter
from open287g.api.ratelimit import RateLimit
from open287g.api.request_limits import RequestLimits
from open287g.api.v1.routes import ENDPOINTS
from open287g.api.validators import Validated
from open287g.config import Settings, get_settings
from open287g.db.queries import changes
from open287g.db.session import api_engine, replica_url
from open287g.errors import ClientError
from open287g.graphql import ide
from open287g.graphql.app import graphql_app


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app. Tests pass their own `engine`; otherwise one is made at startup
    from the settings (reads go to the replica when one is configured)."""
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if app.state.engine is None:
            app.state.engine = api_engine(replica_url(configured), configured)
        try:
            yield
        finally:
            await response_cache.aclose()  # closes the Redis link too
            if owns_engine:
                await app.state.engine.dispose()

    counts: Counter[tuple[str, int]] = Counter()
    configured = settings or get_settings()
    # One Redis client (short timeouts, circuit breaker) for the cache and the rate limits.
    redis_link = RedisLink(configured.redis_url) if configured.redis_url else None
    response_cache: ResponseCache = (
        RedisCache(redis_link) if redis_link is not None else MemoryCache()
    )

    async def read_version() -> changes.DataVersion:
        async with app.state.engine.connect() as conn:
            return await changes.data_version(conn)

    clock = VersionClock(read_version, configured.version_check_seconds)

    async def version_of(scope: Scope) -> str:
        # Keys name the database too: two deployments may share one Redis.
        url = app.state.engine.url
        return f"{url.host or ''}/{url.database}@{(await clock.current()).version}"

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", discovery.metrics),
        Route(
            "/graphql",
            Validated(graphql_app(), clock.current, needs_query="query"),
            methods=["GET", "POST"],
        ),
        Route("/static/graphiql/{name}", ide.asset, methods=["GET"]),
        Route("/openapi.json", openapi.openapi_json),
        Route("/docs", openapi.docs),
        *(
            Route(path, Validated(request_response(endpoint), clock.current), methods=["GET"])
            for path, endpoint in (
                ("/data.json", discovery.data_json),
                ("/datapackage.json", discovery.datapackage_json),
                ("/v1/changes.atom", discovery.changes_atom),
            )
        ),
        *(Route(endpoint.path, endpoint.handler) for endpoint in ENDPOINTS),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestCounter, counts=counts, routes=routes),
            Middleware(ResponseHeaders),
            Middleware(
                RequestLimits,
                max_body_bytes=configured.max_body_bytes,
                max_header_bytes=configured.max_header_bytes,
            ),
            *(
                [
                    Middleware(
                        RateLimit,
                        rate=configured.rate_limit_per_second,
                        burst=configured.rate_limit_burst,
                        link=redis_link,
                    )
                ]
                if configured.rate_limit_per_second > 0
                else []
            ),
            Middleware(RequestGuard),
            *(
                [Middleware(ResponseCacheMiddleware, cache=response_cache, version=version_of)]
                if configured.response_cache
                else []
            ),
        ],
        exception_handlers={
            problems.Problem: problems.handle_problem,
            ClientError: problems.handle_client_error,
            HTTPException: problems.handle_http_exception,
            **dict.fromkeys(problems.DATABASE_ERRORS, problems.handle_database_error),
            Exception: problems.handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.request_counts = counts
    app.state.response_cache = response_cache
    app.state.settings = configured
    return app
