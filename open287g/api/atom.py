"""The Atom feed (RFC 4287) of `/v1/changes.atom`: a changelog people can read.

Each entry says what happened to which record in words (`Grundy County Sheriff's Office
(TN, Warrant Service Officer): added to the participating list of 2025-07-11`), links to
the record, and names the feed's author. Only summarized changes appear (a new `lastSeen`
alone is not news); machines that sync use `/v1/changes`. Every absolute link is built
from the configured public URL, never from the request's Host header.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from open287g.db.queries.changes import ChangelogEntry
from open287g.db.queries.ids import to_global_id

ATOM = "http://www.w3.org/2005/Atom"
AUTHOR = "open287g"
_RECORDS = {
    "agreement": ("agreements", "Agreement"),
    "policy": ("policies", "Policy"),
    "dataset": ("datasets", "Dataset"),
}


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


def title_of(entry: ChangelogEntry) -> str:
    if entry.entity == "agreement" and entry.agency:
        return f"{entry.agency} ({entry.state}, {entry.model}): {entry.summary}"
    if entry.entity == "policy" and entry.jurisdiction:
        return f"{entry.jurisdiction} ({entry.state}): {entry.summary}"
    if entry.entity == "dataset" and entry.file:
        return f"{entry.dataset} dataset: {entry.summary}"
    return _capitalized(entry.summary)  # the record is gone; its summary names it


def summary_of(entry: ChangelogEntry) -> str:
    if entry.entity == "agreement" and entry.agency:
        return (
            f"The {entry.model} agreement of {entry.agency}, {entry.state}: "
            f"{entry.summary}. Current status: {entry.status}."
        )
    if entry.entity == "policy" and entry.jurisdiction:
        return f"Policy of {entry.jurisdiction}, {entry.state}: {entry.summary}."
    if entry.entity == "dataset" and entry.file:
        return f"Source file {entry.file} ({entry.dataset}): {entry.summary}."
    return f"{_capitalized(entry.summary)} (change {entry.seq} of the sync feed)."


def link_of(entry: ChangelogEntry, base: str) -> str:
    """The record while it exists; for a tombstone, its place in the sync feed."""
    if entry.op == "UPSERT" and entry.entity in _RECORDS:
        collection, type_name = _RECORDS[entry.entity]
        return f"{base}/v1/{collection}/{to_global_id(type_name, entry.entity_id)}"
    return f"{base}/v1/changes?since={entry.seq - 1}&limit=1"


def atom_feed(entries: list[ChangelogEntry], base: str, updated: dt.datetime) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _el(feed, "id", f"{base}/v1/changes.atom")
    _el(feed, "title", "open287g: changes to the 287(g) agreements, policies and datasets")
    _el(feed, "subtitle", "What each load changed, newest first; /v1/changes is the sync feed.")
    _el(feed, "updated", updated.isoformat())
    _el(feed, "link", rel="self", href=f"{base}/v1/changes.atom", type="application/atom+xml")
    _el(feed, "link", rel="alternate", href=f"{base}/v1/changes", type="application/json")
    _author(feed, base)
    _el(feed, "generator", "open287g")
    for entry in entries:
        item = _el(feed, "entry")
        _el(item, "id", f"{base}/v1/changes#{entry.seq}")
        _el(item, "title", title_of(entry))
        _el(item, "updated", entry.changed_at.isoformat())
        _author(item, base)
        _el(item, "link", rel="alternate", href=link_of(entry, base))
        _el(item, "summary", summary_of(entry))
        _el(item, "category", term=entry.entity)
    return bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=True))
