"""The sync's pure parts, without a database: finding list links on pages ICE might
write (Hypothesis generates them), when a new list may replace the newest one, and when
the data is stale."""

from __future__ import annotations

import datetime as dt
import html
import time
from dataclasses import replace
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from open287g.db.ingest.sync import Baseline
from open287g.db.queries.freshness import Freshness, StaleRule
from open287g.sync.fetch import RETRIES, Fetched, FetchError, fetch
from open287g.sync.inspect import Candidate, compare
from open287g.sync.links import ListLink, file_name, find_list_links
from tests.support.fake_ice import Resource, fake_ice

BASE = "https://www.ice.gov/identify-and-arrest/287g"
WORDS = st.sampled_from(["Participating", "pending", "PARTICIPATING", "Pending", "list", ""])
TOKENS = st.text(alphabet="abcXYZ0123456789-_", max_size=12)


@st.composite
def anchors(draw: st.DrawFn) -> tuple[str, str, str]:
    """(href, text, markup): a link as a page might write it."""
    folder = draw(st.sampled_from(["/doclib/about/offices/ero/287g/", "/sites/files/", "", "../"]))
    name = draw(WORDS) + draw(TOKENS) + draw(WORDS) + draw(TOKENS)
    extension = draw(st.sampled_from([".xlsx", ".XLSX", ".pdf", ".xls", ""]))
    query = draw(st.sampled_from(["", "?v=2", "#top"]))
    href = folder + (name or "file") + extension + query
    text = draw(WORDS) + " " + draw(st.sampled_from(["Agencies", "(xlsx)", "& more", ""]))
    quote = draw(st.sampled_from(['"', "'"]))
    inner = html.escape(text)
    if draw(st.booleans()):
        inner = f"<span>{inner}</span> <em></em>"
    markup = f"<a class=x href={quote}{html.escape(href)}{quote}>{inner}</a>"
    return href, text, markup


def _says_one_kind(text: str) -> str | None:
    kinds = [k for k in ("participating", "pending") if k in text.lower()]
    return kinds[0].upper() if len(kinds) == 1 else None


@settings(max_examples=300, deadline=None)
@given(st.lists(anchors(), max_size=12))
def test_every_list_link_and_only_list_links_are_found(links: list[tuple[str, str, str]]) -> None:
    page = "<html><body><p>287(g)</p>" + "<br>".join(m for _, _, m in links) + "</body></html>"
    found = find_list_links(page, BASE)
    by_url = {link.url: link for link in found}
    assert len(by_url) == len(found)  # each URL once
    for link in found:
        assert urlsplit(link.url).scheme == "https"
        assert file_name(link.url).lower().endswith(".xlsx")
        assert link.kind in (_says_one_kind(file_name(link.url)), _says_one_kind(link.text))
    for href, text, _ in links:
        name = href.split("?")[0].split("#")[0].rsplit("/", 1)[-1]
        kind = _says_one_kind(name) or _says_one_kind(" ".join(text.split()))
        if name.lower().endswith(".xlsx") and kind is not None:
            url = next(u for u in by_url if file_name(u) == name)
            assert by_url[url].kind in (_says_one_kind(name) or kind, kind)


def test_the_file_name_says_the_kind_before_the_link_text() -> None:
    page = '<a href="/x/pendingAgencies07112025.xlsx">Participating agencies</a>'
    (link,) = find_list_links(page, BASE)
    assert (link.kind, link.url) == (
        "PENDING",
        "https://www.ice.gov/x/pendingAgencies07112025.xlsx",
    )


def _candidate(kind: str, agreements: set[tuple[str, str, str]], columns: list[str]) -> Candidate:
    fetched = Fetched("https://x/list.xlsx", 200, b"", None, None, "")
    found = Candidate(ListLink("https://x/list.xlsx", kind, ""), fetched, "list.xlsx", "0")
    found.agreements, found.columns = frozenset(agreements), columns
    return found


def _agreements(first: int, last: int) -> set[tuple[str, str, str]]:
    return {("TX", f"agency {n}", "TASK_FORCE") for n in range(first, last)}


COLUMNS = ["STATE", "LAW ENFORCEMENT AGENCY", "SUPPORT TYPE"]


def test_agreements_moving_to_the_other_list_are_not_dropped() -> None:
    """ICE's pending list of 2025-07-09 fell from 51 to 20 as 30 agencies became
    participating: a real list, loaded. The same list cut to 5 rows with nobody moved
    is quarantined; so is any list losing a column the last one had."""
    base = Baseline(frozenset(_agreements(0, 51)), COLUMNS)
    shrunk = _candidate("PENDING", _agreements(0, 20), COLUMNS)
    moved = frozenset(_agreements(20, 50))
    assert compare(shrunk, base, moved, 0.5) is None
    cut = _candidate("PENDING", _agreements(0, 5), COLUMNS)
    assert "would drop 46 of 51 pending agreements" in (compare(cut, base, frozenset(), 0.5) or "")
    renamed = _candidate("PENDING", _agreements(0, 51), ["STATE", "AGENCY NAME", "SUPPORT TYPE"])
    reason = compare(renamed, base, frozenset(), 0.5) or ""
    assert "columns changed: LAW ENFORCEMENT AGENCY missing (new: AGENCY NAME)" in reason
    assert compare(shrunk, None, frozenset(), 0.5) is None  # the first list of its kind


def test_stale_after_failed_passes_or_a_silent_sync() -> None:
    rule = StaleRule(passes=3, every=dt.timedelta(minutes=30))
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)
    checked = Freshness(now, now, 0)
    assert Freshness().status(rule, now) == "never"
    assert checked.status(rule, now) == "ok"
    assert replace(checked, failed_checks=2).status(rule, now) == "failing"
    assert replace(checked, failed_checks=3).status(rule, now) == "stale"
    # The sync stopped: no pass, failed or not, for three intervals and the jitter.
    assert checked.status(rule, now + dt.timedelta(minutes=99)) == "ok"
    assert checked.status(rule, now + dt.timedelta(minutes=100)) == "stale"


async def test_a_trickling_download_is_cut_off() -> None:
    """httpx's timeout is per read; a server sending a byte every 0.05 s never trips it.
    The deadline ends each attempt, and the download fails after its tries."""
    with fake_ice() as site:
        site.resources["/slow.xlsx"] = Resource(b"PK\x03\x04" + b"x" * 200, trickle=0.05)
        async with httpx.AsyncClient(timeout=0.5) as http:
            started = time.monotonic()
            with pytest.raises(FetchError, match=r"not complete within 0\.3 s"):
                await fetch(
                    http, site.base + "/slow.xlsx", max_bytes=10_000, deadline=0.3, backoff=0.01
                )
    assert time.monotonic() - started < 3
    assert site.requests["/slow.xlsx"] == RETRIES
