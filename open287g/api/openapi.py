"""The OpenAPI 3.1 document and the /docs page, generated from the endpoint declarations
and the pydantic row models (never written by hand)."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from open287g import __version__
from open287g.api.v1 import models
from open287g.api.v1.routes import ENDPOINTS, Endpoint
from open287g.web.params import Param

_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
}


def _parameter(param: Param) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_TYPES[param.kind])
    if param.enum:
        schema["enum"] = list(param.enum)
    if param.minimum is not None:
        schema["minimum"] = param.minimum
    if param.maximum is not None:
        schema["maximum"] = param.maximum
    if param.default is not None:
        schema["default"] = param.default
    if param.pattern is not None:
        schema["pattern"] = param.pattern
    if param.kind == "string" and not param.enum:
        schema["maxLength"] = param.max_length
        if param.pattern is None:
            schema["pattern"] = "^[^\\u0000]*$"  # NUL is refused everywhere (params.py)
    declared: dict[str, Any] = {
        "name": param.name,
        "in": "query",
        "required": param.required,
        "description": param.description,
        "schema": schema,
    }
    if not param.required:
        declared["allowEmptyValue"] = True  # empty means absent (params.py)
    return declared


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _body(endpoint: Endpoint) -> dict[str, Any]:
    row = _ref(endpoint.model)
    version = {"type": "integer", "description": "Grows with every change a load makes."}
    notice = {"type": "string", "description": "Present when demo or synthetic data is loaded."}
    if endpoint.kind == "collection":
        return {
            "type": "object",
            "required": ["data", "next_cursor", "data_version"],
            "properties": {
                "data": {"type": "array", "items": row},
                "next_cursor": {"type": ["string", "null"]},
                "data_version": version,
                "notice": notice,
            },
        }
    if endpoint.kind in ("item", "report"):
        return {
            "type": "object",
            "required": ["data", "data_version"],
            "properties": {"data": row, "data_version": version, "notice": notice},
        }
    if endpoint.kind == "changes":
        return {
            "type": "object",
            "required": ["data", "next_since", "has_more", "data_version"],
            "properties": {
                "data": {"type": "array", "items": row},
                "next_since": {"type": "integer"},
                "has_more": {"type": "boolean"},
                "data_version": version,
                "notice": notice,
            },
        }
    return {
        "type": "object",
        "required": ["data", "data_version"],
        "properties": {
            "data": {"type": "array", "items": row},
            "data_version": version,
            "notice": notice,
        },
    }


def _header(description: str, kind: str = "string", required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": kind}}


# Every header an answer may carry that a client acts on, declared once; `required` ones
# are on every answer of that status (schemathesis and tests/api/test_openapi_truth.py check).
RATE_LIMIT = {
    "RateLimit-Policy": _header(
        'The quota policy, e.g. `"default";q=600;w=12` (when rate limiting is on).'
    ),
    "RateLimit": _header(
        'Tokens left and seconds to a full bucket, e.g. `"default";r=0;t=12` (when rate '
        "limiting is on)."
    ),
}
RETRY_AFTER = {"Retry-After": _header("Seconds to wait before retrying.", "integer", True)}
VARY = {"Vary": _header("`Accept-Encoding`: the answer may be compressed.")}
VALIDATORS = {
    "ETag": _header(
        "Weak; changes exactly when the data or the request does. Send it back as "
        "`If-None-Match` (weak comparison, `*` matches) for a 304. The same in every "
        "content coding.",
        required=True,
    ),
    "Last-Modified": _header("When the data last changed (`If-Modified-Since`)."),
    "Cache-Control": _header("`public, max-age=60, stale-while-revalidate=600`.", required=True),
    "X-Data-Version": _header("The data version the answer was read at.", "integer", True),
    **VARY,
}
LINK = {"Link": _header('The next page: `<absolute URL>; rel="next"` (absent on the last).')}
ALLOW = {"Allow": _header("The methods this path answers: `GET, HEAD`.", required=True)}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {**(headers or {}), **VARY, **RATE_LIMIT},
        "content": {"application/problem+json": {"schema": _ref(models.Problem)}},
    }


_DESCRIPTIONS = {
    "collection": "One page of at most `limit` rows after `cursor`, in a stable keyset order "
    "(pages do not shift when data changes); the `Link` header and `next_cursor` point at "
    "the next page. `format=csv` or `ndjson` sends the whole filtered list instead, complete "
    "or not at all (503 with `Retry-After` when too many exports run at once).",
    "item": "One record by the opaque id a collection gave; 404 for any other id.",
    "stats": "Aggregates computed from the loaded data; each row says what it counts.",
    "changes": "Changes in the order they were made, from `since` (a change number); "
    "`next_since` and the `Link` header continue the feed, 410 when `since` is older than "
    "the retained history.",
    "report": "A report computed from the loaded data.",
}
_COMMON = (
    " Every answer is JSON (`application/json`, problems `application/problem+json`), sent "
    "`br` or `gzip` when `Accept-Encoding` asks and it is at least 1 KiB; conditional with "
    "`If-None-Match` / `If-Modified-Since` (304); rate-limited per client (429)."
)


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    ok: dict[str, Any] = {"application/json": {"schema": _body(endpoint)}}
    if any(param.name == "format" for param in endpoint.params):
        ok["text/csv"] = {"schema": {"type": "string"}}
        ok["application/x-ndjson"] = {"schema": {"type": "string"}}
    parameters = [_parameter(p) for p in endpoint.params]
    if "{id}" in endpoint.path:  # an item, or a sub-collection of one
        parameters.append(
            {
                "name": "id",
                "in": "path",
                "required": True,
                "description": "An opaque id from a collection.",
                "schema": {"type": "string"},
            }
        )
    paged = endpoint.kind in ("collection", "changes")
    responses: dict[str, Any] = {
        "200": {
            "description": "OK",
            "headers": {**VALIDATORS, **(LINK if paged else {}), **RATE_LIMIT},
            "content": ok,
        },
        "304": {
            "description": "Not modified (If-None-Match / If-Modified-Since): no body.",
            "headers": {**VALIDATORS, **RATE_LIMIT},
        },
        "400": _problem("Bad parameter, cursor or value."),
        "404": _problem(
            "No such record." if "{id}" in endpoint.path else "No such path (a typo in it)."
        ),
        "405": _problem("A method other than GET or HEAD.", ALLOW),
        "413": _problem("A request body over OPEN287G_MAX_BODY_BYTES (a GET needs none)."),
        "429": _problem(
            "Rate limit: the client's token bucket cannot pay for this request "
            '(docs/using-the-api.md, "Rate limits"); retry after `Retry-After` seconds.',
            RETRY_AFTER,
        ),
        "431": _problem("Request headers over OPEN287G_MAX_HEADER_BYTES."),
        "503": _problem(
            "The database is briefly unavailable, or too many exports run at once: retry "
            "after `Retry-After` seconds.",
            RETRY_AFTER,
        ),
    }
    if endpoint.kind == "changes":
        responses["410"] = _problem("`since` is older than the retained history.")
    return {
        "summary": endpoint.summary,
        "description": f"{endpoint.summary}. {_DESCRIPTIONS[endpoint.kind]}{_COMMON}",
        "tags": [endpoint.tag],
        "operationId": endpoint.path.strip("/")
        .replace("/", "_")
        .replace("{id}", "item")
        .replace("-", "_"),
        "parameters": parameters,
        "responses": responses,
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in {e.model for e in ENDPOINTS} | {models.Problem}:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "open287g REST API",
            "version": __version__,
            "description": "Open data on the US 287(g) program: agreements, agencies, "
            "jurisdictions, policies and detainer statistics, with provenance.",
            "license": {
                "name": "Data: public domain (US government works); code: Apache-2.0",
                "identifier": "Apache-2.0",
            },
        },
        "paths": {e.path: {"get": _operation(e)} for e in ENDPOINTS},
        "components": {"schemas": schemas},
    }


async def openapi_json(request: Request) -> Response:
    import orjson

    return Response(orjson.dumps(openapi_document()), media_type="application/json")


async def docs(request: Request) -> Response:
    """A readable reference, rendered here from the same declarations (works offline)."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>open287g API</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "code{background:#eee;padding:0 .2em}td{padding:.2em .6em;border-bottom:1px solid"
        " #ddd}</style></head><body><h1>open287g REST API</h1>",
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1). "
        "GraphQL: <a href='/graphql'>/graphql</a>. Errors are "
        "<code>application/problem+json</code>.</p>",
    ]
    for endpoint in ENDPOINTS:
        parts.append(f"<h2><code>GET {html.escape(endpoint.path)}</code></h2>")
        parts.append(f"<p>{html.escape(endpoint.summary)}.</p>")
        if endpoint.params:
            parts.append("<table>")
            for param in endpoint.params:
                choices = f" ({', '.join(param.enum)})" if param.enum else ""
                parts.append(
                    f"<tr><td><code>{param.name}</code></td><td>{param.kind}</td>"
                    f"<td>{html.escape(param.description + choices)}</td></tr>"
                )
            parts.append("</table>")
        fields = ", ".join(f"<code>{name}</code>" for name in endpoint.model.model_fields)
        parts.append(f"<p>Rows: {fields}</p>")
    parts.append("</body></html>")
    return HTMLResponse("".join(parts))
