"""HTTP mechanics shared by every /v1 endpoint: the data version, conditional GETs, cache
headers, JSON bodies, and CSV/NDJSON exports (spooled, bounded in number)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import io
import re
import tempfile
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.datastructures import MultiDict, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from open287g.config import Settings, get_settings
from open287g.db.queries import changes
from open287g.db.queries.changes import DataVersion
from open287g.web.cache import MAX_REMEMBERED_REQUEST_CHARS
from open287g.web.etags import none_match
from open287g.web.problems import retry_later

SPOOL_MEMORY_BYTES = 1024 * 1024  # an export larger than this waits in a temporary file
SEND_CHUNK_BYTES = 64 * 1024
EXPORT_BUILDS = 1  # exports read from the database at once per process
CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A separator some spreadsheet splits on, before (spaces and) a formula's first character.
_SPLIT_OFF_FORMULA = re.compile(r"([,;|\t\r\n])(?=[ \t]*[=+\-@])")


def _path(request: Request) -> str:
    """The request's path as Starlette's `request.url.path` writes it, read from the
    scope alone: never from the Host header, whose '/' or '?' would move it."""
    path: str = request.scope["path"]
    return path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _request_digest(path: str, query_string: bytes) -> str:
    pairs = QueryParams(query_string).multi_items()
    query = "&".join(sorted(f"{k}={v}" for k, v in pairs))
    return hashlib.sha256(f"{path}?{query}".encode()).hexdigest()[:16]


# Remembered for short requests only, as the response cache's keys are (`api.cache`): a
# GraphQL GET carries its whole document in the query string, and 4,096 remembered 64 KB
# documents would pin 256 MB.
_remembered_digest = lru_cache(maxsize=4096)(_request_digest)


def _short(path: str, query_string: bytes) -> bool:
    return len(path) + len(query_string) <= MAX_REMEMBERED_REQUEST_CHARS


def etag_for(request: Request, version: DataVersion) -> str:
    """Changes exactly when the data or the request changes."""
    path, query_string = _path(request), request.scope["query_string"]
    digest = (_remembered_digest if _short(path, query_string) else _request_digest)(
        path, query_string
    )
    return f'W/"{version.version}-{digest}"'


def not_modified(request: Request, etag: str, version: DataVersion) -> Response | None:
    """A 304 when the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if none_match(if_none_match, etag):  # weak comparison, `*` (RFC 9110 §13.1.2)
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


def is_conditional(request: Request) -> bool:
    """Whether `not_modified` could answer the request (else the version need not be
    read before the data)."""
    headers = request.headers
    return "if-none-match" in headers or "if-modified-since" in headers


async def versioned(
    request: Request, conn: AsyncConnection
) -> tuple[DataVersion, dict[str, str], Response | None]:
    """The data version, the response's cache headers, and a 304 when the client's copy
    is current (else None)."""
    version = await changes.data_version(conn)
    return (version, *validators(request, version))


def validators(
    request: Request, version: DataVersion, extra: str = ""
) -> tuple[dict[str, str], Response | None]:
    """The cache headers of a response of `version` to this request, and a 304 when the
    client's copy is current. `extra` is what else the response depends on (a report's
    quarantined files), added to the ETag."""
    etag = etag_for(request, version)
    if extra:
        etag = f'{etag[:-1]}-{extra}"'
    return cache_headers(etag, version), not_modified(request, etag, version)


def envelope(version: DataVersion, **fields: Any) -> dict[str, Any]:
    """Every body carries the data version, and a notice whenever demo or synthetic data
    is loaded: such data is labelled on every response that could show it."""
    notice = {"notice": version.notice} if version.notice else {}
    return {**fields, "data_version": version.version, **notice}


def next_link(request: Request, name: str, value: str) -> str:
    """Absolute, from OPEN287G_PUBLIC_URL: never from the request's Host, which a client
    controls (and a cached answer would hand to every later client)."""
    path, query_string = _path(request), request.scope["query_string"]
    next_query = _remembered_next_query if _short(path, query_string) else _next_query
    query = next_query(query_string, name, value)
    return f'<{request.app.state.settings.public_url}{path}?{query}>; rel="next"'


def _next_query(query_string: bytes, name: str, value: str) -> str:
    """The query string with `name` set to `value` (remembered for short requests: a page
    asked for again, by the same or another client, links to the same next page)."""
    try:
        raw = query_string.decode()
    except UnicodeDecodeError:
        raw = query_string.decode("latin-1")
    params = MultiDict(parse_qsl(raw, keep_blank_values=True))
    params.update({name: value})  # as Starlette's include_query_params, without URL objects
    return urlencode(params.multi_items())


_remembered_next_query = lru_cache(maxsize=4096)(_next_query)


def cache_headers(etag: str, version: DataVersion) -> dict[str, str]:
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "X-Data-Version": str(version.version)}
    if version.modified is not None:
        headers["Last-Modified"] = _http_date(version.modified)
    return headers


@lru_cache(maxsize=64)
def _http_date(moment: dt.datetime) -> str:
    """RFC 9110's date of a data version (a handful of versions are ever current)."""
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def json_response(body: Any, headers: dict[str, str], status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def neutralize(value: str) -> str:
    """A cell a spreadsheet could run as a formula, whole or in part, is made text.

    Checking the first character is not enough: a spreadsheet that splits on `;`, `|`
    or tabs (or a person who splits the column) turns `x;=1+1` into `x` and a formula.
    So every piece a separator (`, ; | tab CR LF`) could split off that starts, after
    spaces, with `= + - @` gets a `'` right after its separator, and the cell itself a
    leading `'` (which also covers a cell starting with a tab or a carriage return)."""
    pieces = _SPLIT_OFF_FORMULA.sub(r"\1'", value)
    if pieces != value or value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + pieces
    return value


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


class ExportSlots:
    """At most `limit` exports at once in this process, counted from the first query to
    the last byte sent; one more is refused at once (503) instead of queueing."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0
        # Reading and encoding an export is Python work on the event loop; one at a time
        # keeps every other request's latency low (the rest wait their turn, in order).
        self.builds = asyncio.Semaphore(EXPORT_BUILDS)

    def try_acquire(self) -> bool:
        if self.active >= self.limit:
            return False
        self.active += 1
        return True

    def release(self) -> None:
        self.active -= 1


def app_settings(request: Request) -> Settings:
    """The app's settings (the environment's when the app has none)."""
    configured: Settings | None = getattr(request.app.state, "settings", None)
    return configured or get_settings()


def export_slots(request: Request) -> ExportSlots:
    state = request.app.state
    slots: ExportSlots | None = getattr(state, "export_slots", None)
    if slots is None:
        slots = state.export_slots = ExportSlots(app_settings(request).max_exports)
    return slots


async def _encoded(
    fmt: str, names: list[str], batches: AsyncIterator[list[dict[str, Any]]]
) -> AsyncIterator[bytes]:
    if fmt == "csv":
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
    else:
        async for rows in batches:
            yield b"".join(orjson.dumps(row) + b"\n" for row in rows)


class SpooledResponse(Response):
    """Sends a finished export from its spool at the client's pace, then frees its slot.

    No database connection is held while sending: a client reading at 512 B/s costs a
    file handle and a slot, never a pooled connection."""

    def __init__(
        self,
        spool: IO[bytes],
        size: int,
        release: Callable[[], None],
        media_type: str,
        headers: dict[str, str],
    ) -> None:
        super().__init__(None, media_type=media_type, headers=headers)
        self.headers["content-length"] = str(size)
        self.spool = spool
        # Freed once, after the last byte or when the response is dropped unsent (a client
        # gone between the handler and the first byte): a slot must never leak.
        self.finish = weakref.finalize(self, _finish, spool, release)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            while chunk := self.spool.read(SEND_CHUNK_BYTES):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            self.finish()


def _finish(spool: IO[bytes], release: Callable[[], None]) -> None:
    spool.close()
    release()


async def export_response(
    request: Request,
    fmt: str,
    columns: Iterable[str],
    batches: AsyncIterator[list[dict[str, Any]]],
    filename: str,
    headers: dict[str, str],
) -> Response:
    """A whole collection as CSV or NDJSON, complete or not at all.

    The rows are read from the database as fast as it gives them (one snapshot, the
    connection released at the end) into a spool (memory up to SPOOL_MEMORY_BYTES, then a
    temporary file), and only then sent. A failure while reading is a 503 before any byte
    is sent, never a truncated file; a slow reader never holds a database connection. At
    most `OPEN287G_MAX_EXPORTS` exports run at once per process (more: 503), and at most
    EXPORT_BUILDS of them read the database at a time."""
    slots = export_slots(request)
    if not slots.try_acquire():
        raise retry_later(
            f"{slots.limit} exports are being served right now; retry after the Retry-After delay."
        )
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)  # noqa: SIM115
    try:
        async with asyncio.timeout(app_settings(request).export_timeout), slots.builds:
            async for chunk in _encoded(fmt, list(columns), batches):
                spool.write(chunk)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        slots.release()
        raise
    finally:
        await _close(batches)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    return SpooledResponse(spool, size, slots.release, media, {**headers, **disposition})


async def _close(batches: AsyncIterator[Any]) -> None:
    aclose = getattr(batches, "aclose", None)
    if aclose is not None:
        await aclose()
