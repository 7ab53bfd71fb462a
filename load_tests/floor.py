"""The floor of issue #11's targets: the REST page of agreements (`GET /v1/agreements?limit=N`,
first page, id order) answered by ONE SQL statement that builds the whole JSON body in
PostgreSQL, through asyncpg and a raw ASGI app, Python passing the bytes through.

Nothing a real endpoint could drop is skipped: the same rows with their agency's name, the
lineage columns (links at either end and the recursive first sight of the lineage),
`next_cursor` and `data_version`, so `load_tests.bench_compiled` checks that its `data` equals
the server's. Left out: the demo/synthetic `notice` (the real snapshots carry none), cursors
and filters (only the first page is measured), ETag/304 and error pages.

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
MAX_LIMIT = 500

# base64url without padding, as open287g.db.queries.ids and .pagination write them (and no
# line breaks: PostgreSQL's base64 wraps at 76 characters).
_B64URL = "rtrim(translate(encode(convert_to({}, 'UTF8'), 'base64'), '+/' || chr(10), '-_'), '=')"
_GID = _B64URL.format("'{}:' || {}")
_CURSOR = _B64URL.format("""'["agreements:ID:ASC",' || max(id) || ',' || max(id) || ']'""")

# Composed only from the constants above; the limit is a bound parameter.
PAGE_SQL = f"""
WITH RECURSIVE page AS (
    SELECT id FROM agreements ORDER BY id LIMIT $1 + 1
), shown AS (
    SELECT id FROM page ORDER BY id LIMIT $1
), chain(id, ancestor) AS (
    SELECT id, id FROM shown
    UNION
    SELECT c.id, l.predecessor_id FROM chain c
    JOIN agreement_links l ON l.successor_id = c.ancestor AND l.kind <> 'SWITCH'
), lineage AS (
    SELECT c.id, min(g.first_seen) AS first_seen
    FROM chain c JOIN agreements g ON g.id = c.ancestor GROUP BY c.id
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
            'lineage_first_seen', coalesce(ln.first_seen, g.first_seen),
            'predecessor_id', {_GID.format("Agreement", "p.predecessor_id")},
            'predecessor_method', p.method,
            'predecessor_score', p.score,
            'successor_id', {_GID.format("Agreement", "n.successor_id")},
            'successor_method', n.method,
            'successor_score', n.score
        ) ORDER BY g.id)
        FROM shown s
        JOIN agreements g ON g.id = s.id
        JOIN agencies a ON a.id = g.agency_id
        LEFT JOIN lineage ln ON ln.id = g.id
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
    if scope["path"] != PATH or limit is None:
        await _answer(send, 404, b"not found", b"text/plain")
        return
    body: str = await scope["state"]["pool"].fetchval(PAGE_SQL, limit)
    await _answer(send, 200, body.encode(), b"application/json")
