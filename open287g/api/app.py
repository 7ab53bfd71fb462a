"""The ASGI application factory."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route
from starlette.types import Scope

from open287g.api import discovery, openapi, problems
from open287g.api.cache import (
    MemoryCache,
    RedisCache,
    ResponseCache,
    ResponseCacheMiddleware,
    VersionClock,
)
from open287g.api.guard import RequestGuard
from open287g.api.health import healthz, readyz
from open287g.api.middleware import RequestCounter
from open287g.api.v1.routes import ENDPOINTS
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
            await response_cache.aclose()
            if owns_engine:
                await app.state.engine.dispose()

    counts: Counter[tuple[str, int]] = Counter()
    configured = settings or get_settings()
    response_cache: ResponseCache = (
        RedisCache(configured.redis_url) if configured.redis_url else MemoryCache()
    )

    async def read_version() -> int:
        async with app.state.engine.connect() as conn:
            return (await changes.data_version(conn)).version

    clock = VersionClock(read_version, configured.version_check_seconds)

    async def version_of(scope: Scope) -> str:
        # Keys name the database too: two deployments may share one Redis.
        url = app.state.engine.url
        return f"{url.host or ''}/{url.database}@{await clock.current()}"

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", discovery.metrics),
            Route("/graphql", graphql_app(), methods=["GET", "POST"]),
            Route("/static/graphiql/{name}", ide.asset, methods=["GET"]),
            Route("/openapi.json", openapi.openapi_json),
            Route("/docs", openapi.docs),
            Route("/data.json", discovery.data_json),
            Route("/datapackage.json", discovery.datapackage_json),
            Route("/v1/changes.atom", discovery.changes_atom),
            *(Route(endpoint.path, endpoint.handler) for endpoint in ENDPOINTS),
        ],
        middleware=[
            Middleware(RequestCounter, counts=counts),
            Middleware(RequestGuard),
            *(
                [Middleware(ResponseCacheMiddleware, cache=response_cache, version=version_of)]
                if configured.response_cache
                else []
            ),
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET"],
                expose_headers=["ETag", "Link", "Last-Modified", "X-Data-Version"],
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
