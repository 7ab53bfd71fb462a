"""The list links on ICE's 287(g) page, found by what they say rather than where they
point: ICE has moved its files and renamed them over the years, so any `.xlsx` link whose
text or file name says participating or pending is a list (not one URL or name pattern)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

KINDS = ("participating", "pending")


@dataclass(frozen=True)
class ListLink:
    url: str
    kind: str  # PARTICIPATING or PENDING
    text: str

    def as_json(self) -> dict[str, str]:
        return {"url": self.url, "kind": self.kind, "text": self.text}


def file_name(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _kind(*texts: str) -> str | None:
    """The first text (the file name before the link text) naming exactly one kind."""
    for said in texts:
        found = [k for k in KINDS if k in said.lower()]
        if len(found) == 1:
            return found[0].upper()
    return None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, " ".join("".join(self._text).split())))
            self._href = None


def find_list_links(html: str, base_url: str) -> list[ListLink]:
    """Every participating/pending `.xlsx` link, absolute, once each, in page order."""
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    links: dict[str, ListLink] = {}
    for href, said in parser.anchors:
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        name = file_name(url)
        if not name.lower().endswith(".xlsx"):
            continue
        kind = _kind(name, said)
        if kind is not None and url not in links:
            links[url] = ListLink(url, kind, said)
    return list(links.values())
