"""The /graphql endpoint: POST JSON and GET (cacheable reads), GraphiQL for browsers (from
the package's own assets, see graphql/ide.py), no batching, responses encoded with orjson.

HTTP-level decisions live here: the request body must be a JSON object (a bare `"hello"`
or JSON nested past orjson's depth limit is a 400 that says so, never a 500), the app's
own settings reach the resolvers (`create_app(settings)` is honoured), and a result that
failed because the database was out of reach is a 503 with `Retry-After`.
"""

from __future__ import annotations

from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult

from open287g.config import Settings, get_settings
from open287g.db.errors import RETRY_AFTER_SECONDS
from open287g.graphql import ide
from open287g.graphql.context import Context
from open287g.graphql.errors import database_unavailable
from open287g.graphql.schema import schema
from open287g.graphql.versioned import versioned_execution
from open287g.web.responses import cache_headers, etag_for


def settings_of(request: Request | WebSocket) -> Settings:
    """The settings the app was created with (`app.state.settings`), else the process's."""
    configured = getattr(request.app.state, "settings", None)
    return configured if isinstance(configured, Settings) else get_settings()


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(engine=request.app.state.engine, settings=settings_of(request))

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # orjson refuses nesting past 1,024 levels with a JSONDecodeError (strawberry
        # answers 400); json.loads recursed until RecursionError, a 500.
        # A body (or GET `variables`) that is not an object reached `.get()`: a 500.
        value = orjson.loads(data)
        if not isinstance(value, dict | list):
            kind = "null" if value is None else type(value).__name__
            raise HTTPException(
                400,
                "The request must be a JSON object with a `query` (GraphQL over HTTP),"
                f" not a JSON {kind}.",
            )
        return value

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """A browser opening /graphql (Accept: text/html) gets GraphiQL, with or without
        a `?query=` to show; other clients get the query's answer (or, asking for
        nothing in particular without a query, the page)."""
        if request.method != "GET":
            return False
        accept = request.headers.get("accept", "")
        return "text/html" in accept or (
            "*/*" in accept and request.query_params.get("query") is None
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return ide.page(request)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: Any,
    ) -> ExecutionResult:
        """Run the query, then check that the data version did not move while it ran (see
        `versioned_execution`); the answer carries the version it was read at."""
        result, version = await versioned_execution(
            request,
            context,
            lambda ctx: super(GraphQLApp, self).execute_single(
                request, request_adapter, sub_response, ctx, root_value, request_data
            ),
        )
        if version is not None:
            sub_response.headers["X-Data-Version"] = str(version.version)
            if request.method == "GET":
                sub_response.headers.update(cache_headers(etag_for(request, version), version))
        if database_unavailable(result.errors):
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return result


def graphql_app() -> Any:
    return GraphQLApp(schema, graphql_ide="graphiql", allow_queries_via_get=True)
