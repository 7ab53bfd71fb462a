"""HTTP mechanics shared by every /v1 endpoint: the data version, conditional GETs, cache
headers, JSON bodies, and streamed CSV/NDJSON exports."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import AsyncIterator, Callable, Iterable
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from open287g.db.queries.changes import DataVersion

CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def etag_for(request: Request, version: DataVersion) -> str:
    """Changes exactly when the data or the request changes."""
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.sha256(f"{request.url.path}?{query}".encode()).hexdigest()[:16]
    return f'W/"{version.version}-{digest}"'


def not_modified(request: Request, etag: str, version: DataVersion) -> Response | None:
    """A 304 when the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        if etag in tags or "*" in tags:
            return Response(status_code=304, headers=cache_headers(etag, version))
        return None
    since = request.headers.get("if-modified-since")
    if since and version.modified is not None:
        try:
            client = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return None
        if version.modified.replace(microsecond=0) <= client:
            return Response(status_code=304, headers=cache_headers(etag, version))
    return None


def cache_headers(etag: str, version: DataVersion) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Data-Version": str(version.version)}
    if version.modified is not None:
        headers["Last-Modified"] = format_datetime(version.modified.astimezone(dt.UTC), usegmt=True)
    return headers


def json_response(body: Any, headers: dict[str, str], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def neutralize(value: str) -> str:
    """CSV cells that a spreadsheet would run as a formula are prefixed with a quote."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return neutralize(" ".join(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return neutralize(str(value))


def export_response(
    fmt: str,
    columns: Iterable[str],
    batches: AsyncIterator[list[dict[str, Any]]],
    filename: str,
    headers: dict[str, str],
) -> StreamingResponse:
    """Stream a whole collection, one page of rows at a time (constant memory)."""
    names = list(columns)

    async def csv_body() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        async for rows in batches:
            for row in rows:
                writer.writerow([_csv_cell(row[name]) for name in names])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue().encode()

    async def ndjson_body() -> AsyncIterator[bytes]:
        async for rows in batches:
            yield b"".join(orjson.dumps(row) + b"\n" for row in rows)

    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    body: Callable[[], AsyncIterator[bytes]] = csv_body if fmt == "csv" else ndjson_body
    return StreamingResponse(
        body(),
        media_type=media,
        headers={**headers, "Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
