"""The floors of issues #11 and #25's targets, each ONE SQL statement that builds the whole
JSON body in PostgreSQL, through asyncpg and a raw ASGI app, Python passing the bytes through:

- `GET /v1/agreements?limit=N`: the REST page of agreements (first page, id order) as the
  server answers it. Nothing a real endpoint could drop is skipped: the same 26 columns
  with their agency's name, the lineage columns (links at either end, their kinds, the
  switches, and the lineage's first sight the loads store), `next_cursor` and
  `data_version`, so `load_tests.bench_compiled` checks that its `data` equals the
  server's. Left out: the demo/synthetic `notice` (the real snapshots carry none), cursors
  and filters (only the first page is measured), ETag/304 and error pages.
- `GET /plain/agreements?limit=N`: a page of the same agreements with their agency and the
  agency's jurisdiction from the plain table set of `PLAIN_SCHEMA` (schema `plain`, built
  from our data by `build_plain`): what the page costs on tables designed for it, and the
  schema PostGraphile's plain anchor runs on.

    DATABASE_URL=postgresql://... uvicorn load_tests.floor:app --port 8001
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import asyncpg

from open287g.db.session import API_POOL_SIZE

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = "/v1/agreements"
PLAIN_PATH = "/plain/agreements"
MAX_LIMIT = 500

# base64url without padding, as open287g.db.queries.ids and .pagination write them (and no
# line breaks: PostgreSQL's base64 wraps at 76 characters).
_B64URL = "rtrim(translate(encode(convert_to({}, 'UTF8'), 'base64'), '+/' || chr(10), '-_'), '=')"
_GID = _B64URL.format("'{}:' || {}")
_CURSOR = _B64URL.format("""'["agreements:ID:ASC",' || max(id) || ',' || max(id) || ']'""")

_SWITCHED_FROM = "CASE WHEN p.kind = 'SWITCH' THEN p.predecessor_id END"
_SWITCHED_TO = "CASE WHEN n.kind = 'SWITCH' THEN n.successor_id END"

# Composed only from the constants above; the limit is a bound parameter.
PAGE_SQL = f"""
WITH page AS (
    SELECT id FROM agreements ORDER BY id LIMIT $1 + 1
), shown AS (
    SELECT id FROM page ORDER BY id LIMIT $1
)
SELECT json_build_object(
    'data', coalesce((
        SELECT json_agg(json_build_object(
            'id', {_GID.format("Agreement", "g.id")},
            'agency_id', {_GID.format("Agency", "g.agency_id")},
            'agency_name', a.name,
            'state', g.state_code,
            'model', g.model_code,
            'status', g.status,
            'signed_on', g.signed_on,
            'signed_raw', g.signed_raw,
            'moa_url', g.moa_url,
            'addendum_urls', g.addendum_urls,
            'first_seen', g.first_seen,
            'last_seen', g.last_seen,
            'activated_on', g.activated_on,
            'ended_on', CASE WHEN g.status = 'ENDED' THEN g.left_on END,
            'withdrawn_on', CASE WHEN g.status = 'WITHDRAWN' THEN g.left_on END,
            'lineage_first_seen', g.lineage_first_seen,
            'predecessor_id', {_GID.format("Agreement", "p.predecessor_id")},
            'predecessor_kind', p.kind,
            'predecessor_method', p.method,
            'predecessor_score', p.score,
            'successor_id', {_GID.format("Agreement", "n.successor_id")},
            'successor_kind', n.kind,
            'successor_method', n.method,
            'successor_score', n.score,
            'switched_from_id', {_GID.format("Agreement", _SWITCHED_FROM)},
            'switched_to_id', {_GID.format("Agreement", _SWITCHED_TO)}
        ) ORDER BY g.id)
        FROM shown s
        JOIN agreements g ON g.id = s.id
        JOIN agencies a ON a.id = g.agency_id
        LEFT JOIN agreement_links p ON p.successor_id = g.id
        LEFT JOIN agreement_links n ON n.predecessor_id = g.id
    ), '[]'),
    'next_cursor', (
        SELECT {_CURSOR}
        FROM shown HAVING (SELECT count(*) FROM page) > $1
    ),
    'data_version', (SELECT coalesce(max(seq), 0) FROM changes)
)::text
"""  # noqa: S608

# The plain table set: agreement -> agency -> jurisdiction (and the program model), what a
# schema designed for this page holds, copied from ours; foreign keys indexed.
PLAIN_SCHEMA = (
    "DROP SCHEMA IF EXISTS plain CASCADE",
    "CREATE SCHEMA plain",
    "CREATE TABLE plain.jurisdiction (id bigint PRIMARY KEY, name text NOT NULL,"
    " kind text NOT NULL, state_code text NOT NULL)",
    "CREATE TABLE plain.agency (id bigint PRIMARY KEY, name text NOT NULL, type text NOT NULL,"
    " jurisdiction_id bigint REFERENCES plain.jurisdiction (id))",
    "CREATE TABLE plain.program_model (code text PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE plain.agreement (id bigint PRIMARY KEY,"
    " agency_id bigint NOT NULL REFERENCES plain.agency (id),"
    " model_code text NOT NULL REFERENCES plain.program_model (code), status text NOT NULL,"
    " signed_on date, moa_url text, first_seen date NOT NULL, last_seen date NOT NULL)",
    "CREATE INDEX ON plain.agency (jurisdiction_id)",
    "CREATE INDEX ON plain.agreement (agency_id)",
    "CREATE INDEX ON plain.agreement (model_code)",
    "INSERT INTO plain.jurisdiction SELECT id, name, kind::text, state_code FROM jurisdictions",
    "INSERT INTO plain.agency SELECT id, name, type::text, jurisdiction_id FROM agencies",
    "INSERT INTO plain.program_model SELECT code::text, name FROM program_models",
    "INSERT INTO plain.agreement SELECT id, agency_id, model_code::text, status::text,"
    " signed_on, moa_url, first_seen, last_seen FROM agreements",
    "ANALYZE plain.jurisdiction, plain.agency, plain.program_model, plain.agreement",
)

PLAIN_SQL = """
SELECT json_build_object('data', coalesce(json_agg(json_build_object(
    'id', g.id, 'status', g.status, 'signed_on', g.signed_on, 'moa_url', g.moa_url,
    'first_seen', g.first_seen, 'last_seen', g.last_seen, 'model', g.model_code,
    'agency', json_build_object(
        'id', a.id, 'name', a.name, 'type', a.type,
        'jurisdiction', CASE WHEN j.id IS NOT NULL THEN json_build_object(
            'id', j.id, 'name', j.name, 'kind', j.kind, 'state_code', j.state_code) END)
) ORDER BY g.id), '[]'))::text
FROM (SELECT * FROM plain.agreement ORDER BY id LIMIT $1) g
JOIN plain.agency a ON a.id = g.agency_id
LEFT JOIN plain.jurisdiction j ON j.id = a.jurisdiction_id
"""


async def build_plain(conn: asyncpg.Connection) -> None:
    """The plain table set (schema `plain`) from the agreements loaded in public."""
    async with conn.transaction():
        for statement in PLAIN_SCHEMA:
            await conn.execute(statement)


async def _lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            scope["state"]["pool"] = await asyncpg.create_pool(
                os.environ["DATABASE_URL"],
                min_size=API_POOL_SIZE,
                max_size=API_POOL_SIZE,
                server_settings={"jit": "off"},  # as the server's engine sets it
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await scope["state"]["pool"].close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _answer(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _limit(query_string: bytes) -> int | None:
    values = parse_qs(query_string.decode("latin-1")).get("limit", ["100"])
    try:
        limit = int(values[-1])
    except ValueError:
        return None
    return limit if 1 <= limit <= MAX_LIMIT else None


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Raw ASGI: no framework between uvicorn and asyncpg."""
    if scope["type"] == "lifespan":
        await _lifespan(scope, receive, send)
        return
    assert scope["type"] == "http"
    if scope["path"] in ("/healthz", "/readyz"):
        await _answer(send, 200, b"ok", b"text/plain")
        return
    limit = _limit(scope["query_string"])
    statement = {PATH: PAGE_SQL, PLAIN_PATH: PLAIN_SQL}.get(scope["path"])
    if statement is None or limit is None:
        await _answer(send, 404, b"not found", b"text/plain")
        return
    body: str = await scope["state"]["pool"].fetchval(statement, limit)
    await _answer(send, 200, body.encode(), b"application/json")
