"""A fake ice.gov under a test's control: a page and files served on 127.0.0.1 from a
thread, with conditional requests (ETag, Last-Modified) and scripted misbehaviour (5xx,
a slow answer). Set as HTTP_PROXY it also answers for http://www.ice.gov (MOA links, which
the loader keeps only when they point to ice.gov). It counts every body it sends, so a
test can say nothing was sent twice."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PAGE_PATH = "/identify-and-arrest/287g"


@dataclass
class Resource:
    body: bytes
    content_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    last_modified: str | None = None
    failures: int = 0  # answer this many requests with 503 first
    delay: float = 0.0  # seconds before answering (a timeout)
    trickle: float = 0.0  # seconds between the body's bytes (a slow drip)
    validators: bool = True

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class FakeIce:
    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.sent: Counter[tuple[str, str]] = Counter()  # (path, sha256 of body) -> 200s
        self.requests: Counter[str] = Counter()  # path -> every GET
        self.lock = threading.Lock()
        self.base = ""

    @property
    def page_url(self) -> str:
        return self.base + PAGE_PATH

    def page(self, *links: tuple[str, str]) -> Resource:
        """ICE's page linking `(path, text)` pairs, among other links."""
        anchors = "\n".join(f'<li><a href="{path}">{text}</a></li>' for path, text in links)
        html = (
            "<!DOCTYPE html><html><body><h1>287(g)</h1><a href='/about'>About</a>"
            f"<a href='/doclib/287g/factsheet.pdf'>Participating fact sheet</a><ul>{anchors}</ul>"
            "</body></html>"
        ).encode()
        page = self.resources[PAGE_PATH] = Resource(html, "text/html; charset=utf-8")
        return page

    def downloads(self) -> int:
        return sum(self.sent.values())


def _handler(site: FakeIce) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path.startswith("http://"):  # asked as a forward proxy (HTTP_PROXY)
                self.path = urlsplit(self.path).path
            with site.lock:
                site.requests[self.path] += 1
                resource = site.resources.get(self.path)
                failing = resource is not None and resource.failures > 0
                if failing and resource is not None:
                    resource.failures -= 1
            if resource is None:
                self._answer(404, b"not found", "text/plain", {})
                return
            if failing:
                self._answer(503, b"<html>busy</html>", "text/html", {})
                return
            if resource.delay:
                time.sleep(resource.delay)
            headers: dict[str, str] = {}
            if resource.validators:
                headers["ETag"] = resource.etag
                if resource.last_modified:
                    headers["Last-Modified"] = resource.last_modified
                asked_etag = self.headers.get("If-None-Match")
                asked_date = self.headers.get("If-Modified-Since")
                same = asked_etag == resource.etag if asked_etag else False
                if not asked_etag and asked_date and resource.last_modified:
                    same = asked_date == resource.last_modified
                if same:
                    self._answer(304, b"", None, headers)
                    return
            elif resource.last_modified:
                headers["Last-Modified"] = resource.last_modified
            with site.lock:
                site.sent[(self.path, hashlib.sha256(resource.body).hexdigest())] += 1
            self._answer(200, resource.body, resource.content_type, headers, resource.trickle)

        def _answer(
            self,
            status: int,
            body: bytes,
            content_type: str | None,
            headers: dict[str, str],
            trickle: float = 0.0,
        ) -> None:
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not trickle:
                    self.wfile.write(body)
                for byte in body if trickle else b"":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(trickle)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout under test)

    return Handler


@contextmanager
def fake_ice() -> Iterator[FakeIce]:
    site = FakeIce()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
