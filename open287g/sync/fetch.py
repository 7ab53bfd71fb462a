"""One HTTP GET the way the sync needs it: conditional (ETag, Last-Modified), bounded in
time and bytes, retried with backoff on network errors and 5xx (never on 4xx, which will
not get better by asking again)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

RETRIES = 3


class FetchError(Exception):
    """The URL could not be read this pass (after retries, or a 4xx, or too large)."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200 or 304
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str

    @property
    def not_modified(self) -> bool:
        return self.status == 304


async def fetch(
    http: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int,
    deadline: float,
    backoff: float = 1.0,
) -> Fetched:
    """`deadline` bounds a whole attempt: httpx's timeout is per network read, so a server
    trickling a byte at a time would otherwise hold a download for as long as it likes."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for attempt in range(1, RETRIES + 1):
        try:
            async with asyncio.timeout(deadline):
                return await _once(http, url, headers, max_bytes)
        except TimeoutError as exc:
            if attempt == RETRIES:
                raise FetchError(
                    f"{url}: failed after {RETRIES} tries: not complete within {deadline:g} s"
                ) from exc
        except (httpx.TransportError, _Retryable) as exc:
            if attempt == RETRIES:
                reason = str(exc) or type(exc).__name__
                raise FetchError(f"{url}: failed after {RETRIES} tries: {reason}") from exc
        await asyncio.sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


class _Retryable(Exception):
    pass


async def _once(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> Fetched:
    async with http.stream("GET", url, headers=headers) as response:
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code not in (200, 304):
            raise FetchError(f"{url}: HTTP {response.status_code}")
        declared = int(response.headers.get("content-length") or 0)
        if declared > max_bytes:
            raise FetchError(f"{url}: {declared:,} bytes; the limit is {max_bytes:,}")
        chunks: list[bytes] = []
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > max_bytes:
                raise FetchError(f"{url}: more than the limit of {max_bytes:,} bytes")
            chunks.append(chunk)
        return Fetched(
            str(response.url),
            response.status_code,
            b"".join(chunks),
            response.headers.get("etag"),
            response.headers.get("last-modified"),
            response.headers.get("content-type", ""),
        )
