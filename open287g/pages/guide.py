"""`/docs`: the guide for people who want the data. Quick-start examples (declared here once:
the page shows them as `curl` commands built from OPEN287G_PUBLIC_URL, and
tests/pages/test_pages.py runs every one against the app), links to every export and discovery
document, data-quality notes, disclosure control, rate limits, licence and sources. The
OpenAPI reference moved to `/docs/api`."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from open287g.pages.docs import all_docs
from open287g.pages.render import page
from open287g.web.ratelimit import EXPORT_COST, GRAPHQL_COST, STATS_COST


@dataclass(frozen=True)
class Example:
    title: str
    path: str  # with its query string
    graphql: str | None = None  # a GraphQL query: POSTed to `path`, or sent by GET
    method: str = "GET"

    def curl(self, base: str) -> str:
        if self.graphql is None:
            return f"curl {shlex.quote(base + self.path)}"
        if self.method == "GET":
            query = shlex.quote(f"query={self.graphql}")
            return f"curl -G {shlex.quote(base + self.path)} \\\n     --data-urlencode {query}"
        body = json.dumps({"query": self.graphql})
        return (
            f"curl -X POST -H 'Content-Type: application/json' \\\n"
            f"     --data {shlex.quote(body)} \\\n     {shlex.quote(base + self.path)}"
        )


AGREEMENTS_QUERY = (
    '{ agreements(first: 2, filter: {state: "TX", status: ACTIVE}) { totalCount '
    "edges { node { signedOn moaUrl model { code } agency { name county } } } } }"
)
EXAMPLES: tuple[Example, ...] = (
    Example("Two active agreements in Texas", "/v1/agreements?state=TX&status=ACTIVE&limit=2"),
    Example(
        "Active agreements per state and program model",
        "/v1/stats/agreements?group_by=state,model&status=ACTIVE",
    ),
    Example("Every agreement in Florida as CSV", "/v1/agreements?state=FL&format=csv"),
    Example("Policy status of every jurisdiction with a recorded policy", "/v1/policies"),
    Example("Detainers by month in California", "/v1/stats/detainers?group_by=month&state=CA"),
    Example("Every source file, with its SHA-256", "/v1/datasets"),
    Example("Changes since the beginning, for a mirror", "/v1/changes?since=0&limit=50"),
    Example(
        "The same Texas agreements in GraphQL (POST)", "/graphql", AGREEMENTS_QUERY, "POST"
    ),
    Example(
        "GraphQL by GET (cacheable): active agreements per model",
        "/graphql",
        "{ agreementStats(groupBy: [MODEL], filter: {status: ACTIVE}) { key { model } count } }",
    ),
)  # fmt: skip

EXPORTS = ("agreements", "agencies", "jurisdictions", "facilities", "policies", "documents")


def _optional_routes(request: Request) -> set[str]:
    """Routes other parts of the service may add (the quality report, observations): the
    guide links them only when this app serves them, so it never links a 404."""
    return {route.path for route in request.app.routes if isinstance(route, Route)}


async def guide(request: Request) -> Response:
    settings = request.app.state.settings
    base = settings.public_url.rstrip("/")
    return page(
        "guide.html",
        notice=None,
        base=base,
        examples=[(e, e.curl(base)) for e in EXAMPLES],
        graphql_example=AGREEMENTS_QUERY,
        exports=EXPORTS,
        settings=settings,
        costs={"stats": STATS_COST, "graphql": GRAPHQL_COST, "export": EXPORT_COST},
        routes=_optional_routes(request),
        docs=all_docs(),
    )
