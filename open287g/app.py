"""The ASGI application factory.

Middleware order, outermost first (each runs around everything below it):

1. `RequestCounter` — counts and times every answer for /metrics, including those the
   layers below give without reaching a route (413, 429, 431, preflights), by route
   template, and writes its access log line (`web/observability.py`).
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
6. `ReplicaFailover` — only with DATABASE_REPLICA_URL: a 503 met while reading from the
   replica is held back and, when the replica is out, the request runs again on the
   primary (`web/failover.py`). Inside the guard, so a client that left cancels it too;
   outside the cache, so the retry looks the answer up again.
7. `ResponseCacheMiddleware` — innermost: stores only what the app answers for a path,
   query and data version (the version its own reads saw), which no outer layer's
   per-request headers can poison. Its keys include the negotiated content coding.
8. `Compression` — br or gzip as `Accept-Encoding` asks (`web/compression.py`); inside the
   cache, so a hit replays the compressed bytes it stored instead of compressing again.

Endpoints outside /v1 that serve data (GraphQL GET, /data.json, /datapackage.json,
the Atom feeds, the HTML pages of `open287g/pages/`) are wrapped in `Validated` (ETag,
Last-Modified, Cache-Control, 304).
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route, request_response

from open287g.api import atom, discovery, openapi
from open287g.api.v1.routes import ENDPOINTS
from open287g.config import Settings, get_settings, to_asyncpg_url
from open287g.db.notify import VersionListener
from open287g.db.queries import changes
from open287g.db.replica import ReadRouter
from open287g.db.session import api_engine, primary_url, replica_url
from open287g.errors import ClientError
from open287g.graphql import ide
from open287g.graphql.app import graphql_app
from open287g.pages import assets as page_assets
from open287g.pages import docs, guide
from open287g.pages import routes as pages
from open287g.web import problems, slashes
from open287g.web.breaker import RedisLink
from open287g.web.cache import (
    MemoryCache,
    RedisCache,
    ResponseCache,
    ResponseCacheMiddleware,
    VersionClock,
)
from open287g.web.compression import Compression
from open287g.web.failover import ReplicaFailover
from open287g.web.guard import RequestGuard
from open287g.web.headers import ResponseHeaders
from open287g.web.health import healthz, readyz
from open287g.web.middleware import RequestCounter
from open287g.web.observability import AccessLog, Durations
from open287g.web.ratelimit import RateLimit
from open287g.web.request_limits import RequestLimits
from open287g.web.validators import Validated


def cache_namespace(settings: Settings, engine: AsyncEngine | None) -> str:
    """What names this deployment's data in cache keys (several may share one Redis): the
    primary's host and database. A replica holds the same data at the same version, so
    answers read from either are filed together."""
    if engine is not None:
        url = engine.url
    elif settings.database_url:
        url = to_asyncpg_url(settings.database_url)
    else:
        return f"embedded:{settings.data_dir.expanduser().resolve()}"
    return f"{url.host or ''}:{url.port or ''}/{url.database}"


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app. Tests pass their own `engine`; otherwise one is made at startup
    from the settings (reads go to the replica when one is configured)."""
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        router: ReadRouter | None = None
        listener: VersionListener | None = None
        if app.state.engine is None:
            primary = api_engine(primary_url(configured), configured)
            if configured.database_replica_url:
                # Reads from the replica, from the primary while it is out (db/replica.py).
                replica = api_engine(replica_url(configured), configured)
                router = app.state.read_router = ReadRouter(app.state, primary, replica)
                router.start()
            else:
                app.state.engine = primary
            # Loads NOTIFY on commit; the primary tells every process at once (db/notify.py).
            listener = VersionListener(primary_url(configured), clock.announce)
            listener.start()
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            await response_cache.aclose()  # closes the Redis link too
            if router is not None:
                await router.stop()
            elif owns_engine:
                await cast(AsyncEngine, app.state.engine).dispose()
            access_log.close()  # writes the lines still queued

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

    clock = VersionClock(
        read_version, configured.version_check_seconds, source=lambda: app.state.engine
    )
    durations = Durations()
    access_log = AccessLog(configured.log_format)

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
        Route("/docs", guide.guide),
        Route("/docs/api", openapi.docs),
        Route("/docs/{name}", docs.doc_page),
        Route("/static/pages/{name}", page_assets.asset, methods=["GET"]),
        *(
            Route(path, Validated(request_response(endpoint), clock.current), methods=["GET"])
            for path, endpoint in (
                ("/data.json", discovery.data_json),
                ("/datapackage.json", discovery.datapackage_json),
                *((feed.path, discovery.atom_endpoint(feed)) for feed in atom.FEEDS),
                ("/", pages.home_page),
                ("/states/{code}", pages.state_page),
                ("/agencies/{id}", pages.agency_page),
                ("/jurisdictions/{id}", pages.jurisdiction_page),
            )
        ),
        *(Route(endpoint.path, endpoint.handler) for endpoint in ENDPOINTS),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                RequestCounter,
                counts=counts,
                routes=routes,
                durations=durations,
                access_log=access_log,
            ),
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
                [Middleware(ReplicaFailover)]
                if owns_engine and configured.database_replica_url
                else []
            ),
            *(
                [
                    Middleware(
                        ResponseCacheMiddleware,
                        cache=response_cache,
                        version=clock.current,
                        namespace=cache_namespace(configured, engine),
                    )
                ]
                if configured.response_cache
                else []
            ),
            Middleware(Compression),
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
    slashes.install(app.router, configured.public_url)
    app.state.engine = engine
    app.state.request_counts = counts
    app.state.request_durations = durations
    app.state.access_log = access_log
    app.state.version_clock = clock
    app.state.read_router = None
    app.state.response_cache = response_cache
    app.state.settings = configured
    return app


def serve_app() -> Starlette:
    """`open287g serve`'s factory (each worker): the app, then `gc.freeze()`. What exists
    now (modules, the GraphQL schema, the declarations: most of the heap) lives as long as
    the process, and the collector's full passes no longer walk it: they were 5% of the
    CPU time of an uncached REST page under load."""
    app = create_app()
    gc.freeze()
    return app
