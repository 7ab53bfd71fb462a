"""Find the current participating and pending spreadsheets on ICE's 287(g) page."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx

from open287g.config import ICE_287G_PAGE
from open287g.loaders.errors import LoadError
from open287g.loaders.sources import USER_AGENT

_LINK = re.compile(
    r"""href\s*=\s*["']([^"']*/doclib/about/offices/ero/287g/(participating|pending)[^"']*\.xlsx)["']""",
    re.IGNORECASE,
)


def find_spreadsheet_links(html: str, base_url: str = ICE_287G_PAGE) -> list[str]:
    """The newest participating link, then the newest pending link, as absolute URLs."""
    found: dict[str, str] = {}
    for href, kind in _LINK.findall(html):
        found.setdefault(kind.lower(), urljoin(base_url, href))
    return [found[kind] for kind in ("pending", "participating") if kind in found]


async def discover_current_lists(http_timeout: float) -> list[str]:
    try:
        async with httpx.AsyncClient(
            timeout=http_timeout, follow_redirects=True, headers={"User-Agent": USER_AGENT}
        ) as http:
            response = await http.get(ICE_287G_PAGE)
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise LoadError(ICE_287G_PAGE, f"cannot read ICE's 287(g) page: {exc}") from exc
    links = find_spreadsheet_links(response.text, str(response.url))
    if not links:
        raise LoadError(ICE_287G_PAGE, "no participating/pending .xlsx links found on the page")
    return links
