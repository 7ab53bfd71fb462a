"""One way to answer for a file shipped inside the package and named by its content
(GraphiQL's vendored build, the pages' stylesheet): a strong ETag from its digest, cached
for a year as immutable, 304 on If-None-Match; unknown names are a plain 404."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from open287g.web.etags import none_match

IMMUTABLE = "public, max-age=31536000, immutable"


def not_shipped() -> Response:
    """A name that is not one of the files we ship (names never reach the disk as paths)."""
    return Response("not found\n", status_code=404, media_type="text/plain")


def immutable_file(request: Request, body: bytes, digest: str, media_type: str) -> Response:
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if none_match(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
