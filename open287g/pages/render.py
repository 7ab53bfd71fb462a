"""Rendering HTML pages: one Jinja2 environment with autoescaping on for every template
(agency names, policy notes and file names are untrusted text: they are always escaped),
filters for numbers, dates, checksums and links, and the page response.

Links taken from the data (MOA URLs, policy sources) are written only when they are
http(s) URLs: escaping alone would still let a `javascript:` URL run.

Pages send their own Content-Security-Policy, stricter than the HTML default of
`web/headers.py`: they run no script at all and load only the stylesheet from this origin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response

from open287g.db.queries.ids import to_global_id

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


@cache
def static_version(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:16]


def asset_url(name: str) -> str:
    """A stylesheet or image of the pages, named by its content (cached for a year)."""
    return f"/static/pages/{name}?v={static_version(name)}"


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def day(value: dt.date | dt.datetime | None) -> str:
    """`11 Jul 2025` (unambiguous in every locale, unlike 07/11/2025)."""
    if value is None:
        return "–"
    return value.strftime("%-d %b %Y")


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def short_sha(value: str | None) -> str:
    return (value or "")[:12] + "…" if value else "–"


def http_url(value: str | None) -> str | None:
    """The URL when it is a plain http(s) URL, else None (the template prints no link)."""
    if not value:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value.strip()


def graphql_url(query: str) -> str:
    """A link that opens the query in GraphiQL (`/graphql?query=` is answered there)."""
    return "/graphql?query=" + quote(query, safe="")


def next_sort(current: str, key: str) -> str:
    """The sort a column heading links to: ascending, or descending when already ascending."""
    return f"-{key}" if current == key else key


def label(code: str | None) -> str:
    """`JAIL_ENFORCEMENT` → `Jail enforcement`."""
    return (code or "").replace("_", " ").capitalize()


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "svg"), default=True),
        undefined=StrictUndefined,  # a misspelt name is an error in tests, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # Each filter is the function of its name.
    env.filters.update({f.__name__: f for f in (number, day, percent, short_sha, http_url, label)})
    env.globals.update(
        asset_url=asset_url, graphql_url=graphql_url, gid=to_global_id, next_sort=next_sort
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def page(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> Response:
    return HTMLResponse(
        render(template, **context),
        status_code=status,
        headers={**(headers or {}), "Content-Security-Policy": PAGE_CSP},
    )


def error_page(status: int, title: str, detail: str) -> Response:
    """A person's error page: what went wrong and where to go instead."""
    return page("error.html", status=status, title=title, detail=detail, notice=None)
