"""Headers every response carries, added in one pure ASGI layer outside everything else
(cache hits, 413/429/431 answers and problem documents included): CORS for a public,
credential-free API, and security headers.

CORS: every response says `Access-Control-Allow-Origin: *`, whether or not the request had
an `Origin`. The answers are public and no request carries credentials, so the answer
never depends on the origin; sending the header unconditionally keeps every response
origin-independent, which is what lets our cache, a CDN or a browser cache store ONE copy
for everybody (a copy stored from a request without `Origin` is still right for a browser;
no `Vary: Origin` needed). Preflights (`OPTIONS` with `Origin` and
`Access-Control-Request-Method`) are answered here, before rate limiting and the app.

Security: `nosniff`, no referrer, no framing (`X-Frame-Options` and CSP `frame-ancestors`),
and a Content-Security-Policy: HTML pages may load only from this origin
(`default-src 'self'`; styles may be inline, scripts may not); everything else gets
`default-src 'none'` (a JSON body opened in a browser runs nothing). A page that needs a
different policy (e.g. script hashes) sets its own `Content-Security-Policy`, which is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALLOWED_METHODS = b"GET, HEAD, POST, OPTIONS"
ALLOWED_HEADERS = (
    b"Accept, Accept-Language, Content-Language, Content-Type, If-None-Match, If-Modified-Since"
)
EXPOSED_HEADERS = (
    b"ETag, Last-Modified, Link, X-Data-Version, X-Cache, Retry-After, RateLimit, "
    b"RateLimit-Policy, Content-Disposition"
)
PREFLIGHT_MAX_AGE = b"600"

HTML_CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    b"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = b"default-src 'none'; frame-ancestors 'none'"

CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", EXPOSED_HEADERS),
]
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
ADDED = CORS_HEADERS + SECURITY_HEADERS
_OURS = frozenset(name for name, _ in ADDED)
_HTML_CSP = (b"content-security-policy", HTML_CSP)
_API_CSP = (b"content-security-policy", API_CSP)


def _is_preflight(scope: Scope) -> bool:
    if scope["method"] != "OPTIONS":
        return False
    names = {name for name, _ in scope["headers"]}
    return b"origin" in names and b"access-control-request-method" in names


class ResponseHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _is_preflight(scope):
            headers = [
                *CORS_HEADERS,
                *SECURITY_HEADERS,
                (b"access-control-allow-methods", ALLOWED_METHODS),
                (b"access-control-allow-headers", ALLOWED_HEADERS),
                (b"access-control-max-age", PREFLIGHT_MAX_AGE),
                (b"content-security-policy", API_CSP),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = []
                csp = html = False
                for name, value in message.get("headers", ()):  # one pass: every answer
                    lowered = name.lower()
                    if lowered in _OURS:
                        continue
                    if lowered == b"content-security-policy":
                        csp = True
                    elif lowered == b"content-type" and value.startswith(b"text/html"):
                        html = True
                    kept.append((name, value))
                kept += ADDED
                if not csp:
                    kept.append(_HTML_CSP if html else _API_CSP)
                message = {**message, "headers": kept}
            await send(message)

        await self.app(scope, receive, send_with_headers)
