"""Which GraphQL POSTs the response cache serves, and under what key.

Load testers and most GraphQL clients POST, so a repeated POST /graphql is answered from
the same cache as GET (`web/cache.py`), server-side only: a POST answer never carries
ETag, Last-Modified or a Cache-Control that would let an HTTP cache store it (the app
sends none for POST; the cache strips them anyway and says `no-store`).

The key is a hash of the request's canonical form: the document text exactly as sent
(whitespace-different documents are different keys: canonicalising them would mean
parsing every request, and a miss costs only one execution), `operationName`, and
`variables` and `extensions` re-serialised with sorted keys (`{"a":1,"b":2}` and
`{"b": 2, "a": 1}` share an entry). The data version and database are prefixed by the
middleware, as for GET entries.

Only queries are cached. The schema has no mutation or subscription type, so any other
operation is a validation error today; still, a document that contains the word
`mutation` or `subscription` anywhere is never cached (a cheap, conservative test: a false
positive only costs a miss).

The body is read here, before the app, and replayed to the app message by message,
unchanged, on a miss. `RequestLimits` runs outside the cache, so a body that reaches this
layer is at most OPEN287G_MAX_BODY_BYTES; `MAX_BUFFERED_BYTES` bounds the buffer anyway,
past which the request passes through uncached with what was read replayed.
"""

from __future__ import annotations

import functools
import hashlib

import orjson
from starlette.types import Message, Receive, Scope

MAX_BUFFERED_BYTES = 1024 * 1024
REMEMBERED_BODIES = 1024
MAX_REMEMBERED_BODY_BYTES = 8 * 1024  # so the remembered bodies hold at most 8 MiB
NOT_FOR_POST = frozenset({b"etag", b"last-modified", b"cache-control", b"content-length"})
_NOT_QUERIES = (b"mutation", b"subscription")


def is_graphql_post(scope: Scope) -> bool:
    """POST /graphql with a JSON body (`application/json`, any parameters)."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
        return False
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


async def read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request's messages as received (to replay), and its body when it was read
    whole within `MAX_BUFFERED_BYTES` (else None: pass through uncached)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None  # the client left
        size += len(message.get("body", b""))
        if size > MAX_BUFFERED_BYTES:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the app the buffered messages first, then the real one's."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def request_hash(body: bytes) -> str | None:
    """The canonical form's sha256, or None when the request is not a cacheable query
    (malformed JSON, not an object, no string `query`, a mutation or subscription):
    those pass through and the app answers them as usual.

    Remembered for the last `REMEMBERED_BODIES` small bodies (a client repeats its
    documents; looking a body up costs far less than parsing and re-serialising it)."""
    if len(body) <= MAX_REMEMBERED_BODY_BYTES:
        return _remembered_hash(body)
    return _request_hash(body)


def _request_hash(body: bytes) -> str | None:
    lowered = body.lower()
    if any(word in lowered for word in _NOT_QUERIES):
        return None
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return None
    operation = request.get("operationName")
    variables = request.get("variables")
    extensions = request.get("extensions")
    if not (
        (operation is None or isinstance(operation, str))
        and (variables is None or isinstance(variables, dict))
        and (extensions is None or isinstance(extensions, dict))
    ):
        return None
    try:
        canonical = orjson.dumps(
            [request["query"], operation, variables or {}, extensions or {}],
            option=orjson.OPT_SORT_KEYS,
        )
    except orjson.JSONEncodeError:
        return None
    return hashlib.sha256(canonical).hexdigest()


_remembered_hash = functools.lru_cache(maxsize=REMEMBERED_BODIES)(_request_hash)


def post_key(version: str, digest: str) -> str:
    """A POST entry's key: never equal to a GET key (those hold the path and its query)."""
    return f"{version}:POST /graphql#{digest}"


def stored_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """What a POST entry keeps: no validators or caching headers, and `no-store`."""
    kept = [(k, v) for k, v in headers if k.lower() not in NOT_FOR_POST]
    return [*kept, (b"cache-control", b"no-store")]
