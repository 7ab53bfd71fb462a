"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from open287g.api import problems
from open287g.api.health import healthz, readyz
from open287g.config import Settings, get_settings
from open287g.db.session import make_engine, replica_url
from open287g.graphql.app import graphql_app


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """Build the app. Tests pass their own `engine`; otherwise one is made at startup
    from the settings (reads go to the replica when one is configured)."""
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if app.state.engine is None:
            app.state.engine = make_engine(replica_url(settings or get_settings()))
        try:
            yield
        finally:
            if owns_engine:
                await app.state.engine.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql_app(), methods=["GET", "POST"]),
        ],
        exception_handlers={
            problems.Problem: problems.handle_problem,
            HTTPException: problems.handle_http_exception,
            Exception: problems.handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.engine = engine
    return app
