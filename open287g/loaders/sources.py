"""Where source files come from: a path, a folder of them, or a URL (downloaded async).

Every source is read whole into memory under a size limit: the public files are small,
and hashing the exact bytes is what provenance records.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from open287g import __version__
from open287g.config import Settings
from open287g.db.ingest.provenance import SourceFacts
from open287g.loaders.errors import LoadError

USER_AGENT = f"open287g/{__version__} (+https://github.com/open287g)"
RETRIES = 3


@dataclass(frozen=True)
class SourceDocument:
    """The exact bytes of one source file and where they came from."""

    name: str
    data: bytes
    url: str | None = None
    path: str | None = None
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def label(self) -> str:
        return self.url or self.path or self.name

    def facts(self) -> SourceFacts:
        """What provenance publishes: the URL of a download, never the path of a local
        file (the loading machine's layout is nobody's business; `name` identifies it)."""
        return SourceFacts(self.name, self.url, self.sha256, len(self.data), self.fetched_at)


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


def expand_paths(sources: Iterable[str], suffixes: tuple[str, ...]) -> list[str]:
    """Files and URLs as given; folders replaced by their files with one of `suffixes`."""
    expanded: list[str] = []
    for source in sources:
        if is_url(source):
            expanded.append(source)
            continue
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
            if not files:
                raise LoadError(source, f"folder has no {'/'.join(suffixes)} files")
            expanded.extend(str(p) for p in files)
        elif path.is_file():
            expanded.append(str(path))
        else:
            raise LoadError(source, "no such file or folder")
    return expanded


def read_path(path: str, max_bytes: int) -> SourceDocument:
    file = Path(path)
    if not file.is_file():
        raise LoadError(path, "no such file")
    size = file.stat().st_size
    if size > max_bytes:
        raise LoadError(path, f"file is {size:,} bytes; the limit is {max_bytes:,}")
    return SourceDocument(name=file.name, data=file.read_bytes(), path=str(file.resolve()))


async def fetch_url(
    url: str, *, max_bytes: int, http_timeout: float, client: httpx.AsyncClient | None = None
) -> SourceDocument:
    """Download into memory (small files: spreadsheets, policy CSVs)."""
    chunks: list[bytes] = []
    name = await _download(url, chunks.append, chunks.clear, max_bytes, http_timeout, client)
    return SourceDocument(name=name, data=b"".join(chunks), url=url)


async def fetch_to_file(url: str, destination: Path, *, max_bytes: int, http_timeout: float) -> str:
    """Download to a file (large files: detainer releases); returns the file's name."""
    with destination.open("wb") as file:

        def restart() -> None:
            file.seek(0)
            file.truncate()

        return await _download(url, file.write, restart, max_bytes, http_timeout, None)


async def _download(
    url: str,
    sink: Callable[[bytes], object],
    restart: Callable[[], object],
    max_bytes: int,
    http_timeout: float,
    client: httpx.AsyncClient | None,
) -> str:
    """Stream `url` into `sink` with a timeout, a size limit enforced while streaming, and
    retries with backoff on network errors and 5xx (never on 4xx: those will not get
    better). Each attempt calls `restart` first, so a retry never appends to a partial body."""
    own_client = client is None
    http = client or httpx.AsyncClient(
        timeout=http_timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
    )
    try:
        for attempt in range(1, RETRIES + 1):
            restart()
            try:
                return await _download_once(http, url, max_bytes, sink)
            except (httpx.TransportError, _RetryableStatus) as exc:
                if attempt == RETRIES:
                    raise LoadError(url, f"download failed after {RETRIES} tries: {exc}") from exc
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")
    finally:
        if own_client:
            await http.aclose()


class _RetryableStatus(Exception):
    pass


async def _download_once(
    http: httpx.AsyncClient, url: str, max_bytes: int, sink: Callable[[bytes], object]
) -> str:
    async with http.stream("GET", url) as response:
        if response.status_code >= 500:
            raise _RetryableStatus(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise LoadError(url, f"HTTP {response.status_code}")
        declared = int(response.headers.get("content-length") or 0)
        if declared > max_bytes:
            raise LoadError(url, f"file is {declared:,} bytes; the limit is {max_bytes:,}")
        received = 0
        async for chunk in response.aiter_bytes():
            received += len(chunk)
            if received > max_bytes:
                raise LoadError(url, f"download exceeds the limit of {max_bytes:,} bytes")
            sink(chunk)
    return unquote(urlsplit(str(response.url)).path.rsplit("/", 1)[-1]) or "download"


async def read_one(source: str, settings: Settings) -> SourceDocument:
    """One file or URL, under the configured size limit and download timeout."""
    if is_url(source):
        return await fetch_url(
            source, max_bytes=settings.max_upload_bytes, http_timeout=settings.http_timeout
        )
    return await asyncio.to_thread(read_path, source, settings.max_upload_bytes)
