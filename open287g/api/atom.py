"""The Atom feeds (RFC 4287): changelogs people can read, one per kind of news.

`/v1/changes.atom` is agreement news; policies, documents and datasets have feeds of their
own (`FEEDS`), so that one MOA load (hundreds of "loaded X.pdf") never pushes agreement
news out. Every feed pages (RFC 5005 paged feeds: `first`, and `next` with `?before=SEQ`
while older entries exist), and each entry links to the HTML page of what it is about
(`alternate`) and to the JSON record (`related`).

Each entry says what happened to which record in words (`Grundy County Sheriff's Office
(TN, Warrant Service Officer): added to the participating list of 2025-07-11`), links to
the record, and names the feed's author. Only summarized changes appear (a new `lastSeen`
alone is not news); machines that sync use `/v1/changes`. Every absolute link is built
from the configured public URL, never from the request's Host header.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from open287g.db.queries.changes import ChangelogEntry
from open287g.db.queries.ids import to_global_id

ATOM = "http://www.w3.org/2005/Atom"
AUTHOR = "open287g"
_RECORDS = {
    "agreement": ("agreements", "Agreement"),
    "policy": ("policies", "Policy"),
    "dataset": ("datasets", "Dataset"),
    "document": ("documents", "Document"),
}


@dataclass(frozen=True)
class Feed:
    path: str
    entities: tuple[str, ...]
    title: str


FEEDS = (
    Feed("/v1/changes.atom", ("agreement",), "open287g: 287(g) agreement news"),
    Feed("/v1/policies.atom", ("policy",), "open287g: jurisdiction policies"),
    Feed("/v1/documents.atom", ("document",), "open287g: MOA documents read"),
    Feed("/v1/datasets.atom", ("dataset",), "open287g: source files loaded and removed"),
)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    element.text = text
    return element


def _author(parent: ET.Element, base: str) -> None:
    author = _el(parent, "author")
    _el(author, "name", AUTHOR)
    _el(author, "uri", base + "/")


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Words:
    """How an entry about a record is put in words: str.format templates over its fields."""

    named_by: str  # the field that names the record while it exists (a tombstone has none)
    title: str
    summary: str


_WORDS = {
    "agreement": _Words(
        "agency",
        "{agency} ({state}, {model}): {summary}",
        "The {model} agreement of {agency}, {state}: {summary}. Current status: {status}.",
    ),
    "policy": _Words(
        "jurisdiction",
        "{jurisdiction} ({state}): {summary}",
        "Policy of {jurisdiction}, {state}: {summary}.",
    ),
    "dataset": _Words(
        "file", "{dataset} dataset: {summary}", "Source file {file} ({dataset}): {summary}."
    ),
    "document": _Words("file", "{file}: {summary}", "MOA document {file}: {summary}."),
}


def _words(entry: ChangelogEntry) -> _Words | None:
    words = _WORDS.get(entry.entity)
    return words if words is not None and getattr(entry, words.named_by) else None


def title_of(entry: ChangelogEntry) -> str:
    words = _words(entry)
    if words is None:
        return _capitalized(entry.summary)  # the record is gone; its summary names it
    return words.title.format(**vars(entry))


def summary_of(entry: ChangelogEntry) -> str:
    words = _words(entry)
    if words is None:
        return f"{_capitalized(entry.summary)} (change {entry.seq} of the sync feed)."
    return words.summary.format(**vars(entry))


def page_of(entry: ChangelogEntry, base: str) -> str:
    """The HTML page of what the entry is about: the agency's page (agreements, and
    documents that belong to one), the state's (policies), else the home page."""
    if entry.op == "UPSERT" and entry.agency_id is not None:
        return f"{base}/agencies/{to_global_id('Agency', entry.agency_id)}"
    if entry.op == "UPSERT" and entry.entity == "policy" and entry.state:
        return f"{base}/states/{entry.state}"
    return f"{base}/"


def link_of(entry: ChangelogEntry, base: str) -> str:
    """The JSON record while it exists; for a tombstone, its place in the sync feed."""
    if entry.op == "UPSERT" and entry.entity in _RECORDS:
        collection, type_name = _RECORDS[entry.entity]
        return f"{base}/v1/{collection}/{to_global_id(type_name, entry.entity_id)}"
    return f"{base}/v1/changes?since={entry.seq - 1}&limit=1"


def atom_feed(
    feed_of: Feed,
    entries: list[ChangelogEntry],
    base: str,
    updated: dt.datetime,
    *,
    before: int | None,
    more: bool,
) -> bytes:
    """One page of `feed_of`: `entries` (newest first, older than `before` when given),
    `more` when older ones follow."""
    ET.register_namespace("", ATOM)
    url = f"{base}{feed_of.path}"
    feed = ET.Element(f"{{{ATOM}}}feed")
    _el(feed, "id", url)
    _el(feed, "title", feed_of.title)
    _el(feed, "subtitle", "What each load changed, newest first; /v1/changes is the sync feed.")
    _el(feed, "updated", updated.isoformat())
    here = url if before is None else f"{url}?before={before}"
    _el(feed, "link", rel="self", href=here, type="application/atom+xml")
    _el(feed, "link", rel="first", href=url, type="application/atom+xml")
    if more and entries:
        older = f"{url}?before={entries[-1].seq}"
        _el(feed, "link", rel="next", href=older, type="application/atom+xml")
    _el(feed, "link", rel="alternate", href=f"{base}/", type="text/html")
    _el(feed, "link", rel="related", href=f"{base}/v1/changes", type="application/json")
    for other in FEEDS:
        if other is not feed_of:
            _el(feed, "link", rel="related", href=f"{base}{other.path}", title=other.title,
                type="application/atom+xml")  # fmt: skip
    _author(feed, base)
    _el(feed, "generator", "open287g")
    for entry in entries:
        item = _el(feed, "entry")
        _el(item, "id", f"{base}/v1/changes#{entry.seq}")
        _el(item, "title", title_of(entry))
        _el(item, "updated", entry.changed_at.isoformat())
        _author(item, base)
        _el(item, "link", rel="alternate", href=page_of(entry, base), type="text/html")
        _el(item, "link", rel="related", href=link_of(entry, base), type="application/json")
        _el(item, "summary", summary_of(entry))
        _el(item, "category", term=entry.entity)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))
