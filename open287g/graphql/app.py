"""The /graphql endpoint: POST JSON and GET (cacheable reads), GraphiQL for browsers,
no batching, responses encoded with orjson."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from open287g.config import get_settings
from open287g.graphql.context import Context
from open287g.graphql.schema import schema


class GraphQLApp(GraphQL[Context, None]):
    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(engine=request.app.state.engine, settings=get_settings())

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


def graphql_app() -> Any:
    return GraphQLApp(schema, graphql_ide="graphiql", allow_queries_via_get=True)
