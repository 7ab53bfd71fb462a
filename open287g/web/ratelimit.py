"""Rate limiting per client: a token bucket each, charged before any work starts.

A client's bucket holds OPEN287G_RATE_LIMIT_BURST tokens and regains
OPEN287G_RATE_LIMIT_PER_SECOND per second. Each request costs tokens by what it may cost the
server (`request_cost`): 1 for a page or a record, more for statistics, GraphQL and whole
exports. A request the bucket cannot pay for is a 429 problem document with `Retry-After`
(seconds until it could be paid); every limited answer carries the IETF RateLimit fields
(draft-ietf-httpapi-ratelimit-headers-09): `RateLimit-Policy: "default";q=<burst>;w=<seconds
to refill>` and `RateLimit: "default";r=<tokens left>;t=<seconds until full>`.

Who is a client: the socket peer address (`scope["client"]`; an IPv6 address by its /64,
which one subscriber usually holds whole). Behind a reverse proxy every request would come
from the proxy: run `open287g serve --forwarded-allow-ips=<proxy address>` so uvicorn takes
the client from `X-Forwarded-For`, and only from that proxy.

Where buckets live: in Redis when REDIS_URL is set (one atomic script per request, Redis's
own clock, so every API process shares one bucket per client), else in this process (an
LRU of at most `MAX_CLIENTS` buckets). When Redis is out, this process's buckets take over
(limits then hold per process) until Redis answers again; a Redis failure never fails a
request.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from open287g.web.breaker import RedisLink
from open287g.web.problems import problem_response

MAX_CLIENTS = 100_000
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})  # operations, not data
EXPORT_COST = 20
STATS_COST = 5
GRAPHQL_COST = 5

_REDIS_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local saved = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(saved[1]) or burst
local at = tonumber(saved[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return {allowed, tostring(tokens)}
"""


def request_cost(scope: Scope) -> int:
    path: str = scope["path"]
    query: bytes = scope["query_string"]
    if b"format=csv" in query or b"format=ndjson" in query:
        return EXPORT_COST
    if path.startswith("/v1/stats/") or path == "/v1/quality":
        return STATS_COST  # the quality report reads whole tables too
    if path == "/graphql" and (scope["method"] == "POST" or b"query=" in query):
        return GRAPHQL_COST
    return 1


def client_key(scope: Scope) -> str:
    client = scope.get("client")
    host = client[0] if client else "unknown"
    if ":" in host:
        try:
            return str(ipaddress.IPv6Network(f"{host}/64", strict=False).network_address)
        except ValueError:
            return host
    return host


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tokens: float  # left after this request (before it, when refused)


class MemoryBuckets:
    def __init__(self, rate: float, burst: int, max_clients: int = MAX_CLIENTS) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str, cost: int, now: float | None = None) -> Decision:
        now = time.monotonic() if now is None else now
        tokens, at = self.buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0.0, now - at) * self.rate)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        self.buckets[client] = (tokens, now)
        if len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)  # the longest-idle client starts afresh
        return Decision(allowed, tokens)


class RedisBuckets:
    """Buckets shared by every process through Redis; None from `take` means Redis is out."""

    def __init__(self, link: RedisLink, rate: float, burst: int) -> None:
        self.link = link
        self.rate = rate
        self.burst = burst
        self.ttl = max(1, math.ceil(burst / rate)) + 1
        self.script = link.client.register_script(_REDIS_SCRIPT)

    async def take(self, client: str, cost: int) -> Decision | None:
        args = [self.rate, self.burst, cost, self.ttl]
        result = await self.link.call(
            lambda _: self.script(keys=[f"open287g:rl:{client}"], args=args)
        )
        if not isinstance(result, list) or len(result) != 2:
            return None
        return Decision(int(result[0]) == 1, float(result[1]))


class RateLimit:
    def __init__(
        self, app: ASGIApp, rate: float, burst: int, link: RedisLink | None = None
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = burst
        self.local = MemoryBuckets(rate, burst)
        self.shared = RedisBuckets(link, rate, burst) if link is not None else None
        window = max(1, math.ceil(burst / rate))
        self.policy = f'"default";q={burst};w={window}'.encode()

    async def decide(self, scope: Scope, cost: int) -> Decision:
        client = client_key(scope)
        if self.shared is not None:
            decision = await self.shared.take(client, cost)
            if decision is not None:
                return decision
        return self.local.take(client, cost)

    def _fields(self, decision: Decision) -> list[tuple[bytes, bytes]]:
        reset = math.ceil((self.burst - decision.tokens) / self.rate)
        state = f'"default";r={math.floor(decision.tokens)};t={reset}'.encode()
        return [(b"ratelimit-policy", self.policy), (b"ratelimit", state)]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        cost = min(request_cost(scope), self.burst)  # a bucket must be able to pay once
        decision = await self.decide(scope, cost)
        fields = self._fields(decision)
        if not decision.allowed:
            wait = max(1, math.ceil((cost - decision.tokens) / self.rate))
            detail = (
                f"rate limit: this request costs {cost} token(s), {math.floor(decision.tokens)} "
                f"left; the bucket holds {self.burst} and refills {self.rate:g}/s"
            )
            response = problem_response(429, detail, scope["path"])
            response.headers["Retry-After"] = str(wait)
            for name, value in fields:
                response.headers[name.decode()] = value.decode()
            await response(scope, receive, send)
            return

        async def send_with_fields(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *fields]}
            await send(message)

        await self.app(scope, receive, send_with_fields)
