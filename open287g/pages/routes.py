"""The page endpoints. Each reads one view through the shared query layer and renders it;
`app.py` registers them (wrapped in `Validated` for ETag/304 and cached by the response
cache by data version, like the APIs).

Parameters are declared and parsed like REST ones (`web/params.py`): anything unknown,
repeated or malformed is a 400 page, before any SQL runs. Database trouble propagates to the
app's handlers (a 503 with Retry-After), as for the APIs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from open287g.db.queries.changes import DataVersion
from open287g.db.queries.ids import BadId, int_key
from open287g.errors import ClientError
from open287g.pages import agency, home, jurisdiction, state
from open287g.pages.render import error_page, page
from open287g.web.params import Param, parse_params, shown
from open287g.web.problems import Problem
from open287g.web.responses import cache_headers, etag_for

SORT = Param(
    "sort",
    "string",
    "Column to sort the agreements by; a leading '-' sorts descending.",
    enum=tuple(f"{sign}{key}" for key in state.SORT_KEYS for sign in ("", "-")),
    default=state.DEFAULT_SORT,
)


def _params(request: Request, declared: Sequence[Param]) -> dict[str, object] | Response:
    try:
        return parse_params(request, declared)
    except Problem as problem:
        return error_page(400, "That address has a mistake in it", problem.detail)


def _versioned(request: Request, version: DataVersion) -> dict[str, str]:
    """The validators of the version this page's own reads saw (X-Data-Version, ETag,
    Last-Modified, Cache-Control): the response cache files the page under it."""
    return cache_headers(etag_for(request, version), version)


async def home_page(request: Request) -> Response:
    values = _params(request, ())
    if isinstance(values, Response):
        return values
    async with request.app.state.engine.connect() as conn:
        view = await home.home_view(conn)
    return page(
        "home.html",
        view=view,
        notice=view.version.notice,
        headers=_versioned(request, view.version),
    )


async def state_page(request: Request) -> Response:
    values = _params(request, (SORT,))
    if isinstance(values, Response):
        return values
    raw = request.path_params["code"]
    code = state.state_code(raw)
    if code is None:
        return error_page(
            404, "No such state", f"{shown(raw)} is not a US state code (try TX or tx)."
        )
    if code != raw:  # one address per state: /states/TX
        target = f"/states/{code}" + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(target, status_code=308)
    async with request.app.state.engine.connect() as conn:
        view = await state.state_view(
            conn, code, str(values["sort"]), request.app.state.settings.min_cell
        )
    return page(
        "state.html",
        view=view,
        notice=view.version.notice,
        headers=_versioned(request, view.version),
    )


View = TypeVar("View")


async def _entity_page(
    request: Request,
    kind: str,
    read: Callable[[AsyncConnection, int], Awaitable[View | None]],
    hint: str,
) -> View | Response:
    """An entity's view by its opaque API id (`Agency`, `Jurisdiction`), or the answer
    instead of it: a 400 page for stray parameters, a 404 page (with `hint` on where ids
    come from) for an id that is malformed, of another type or unknown."""
    values = _params(request, ())
    if isinstance(values, Response):
        return values
    raw = request.path_params["id"]
    try:
        key: int | None = int_key(raw, kind)
    except (BadId, ClientError):
        key = None
    view = None
    if key is not None:
        async with request.app.state.engine.connect() as conn:
            view = await read(conn, key)
    if view is None:
        said = f"There is no {kind.lower()} with the id {shown(raw)}. {hint}"
        return error_page(404, f"No such {kind.lower()}", said)
    return view


async def agency_page(request: Request) -> Response:
    view = await _entity_page(
        request,
        "Agency",
        agency.agency_view,
        "Agency ids are the opaque ids of the APIs (e.g. from /v1/agencies).",
    )
    if isinstance(view, Response):
        return view
    return page(
        "agency.html",
        view=view,
        notice=view.version.notice,
        headers=_versioned(request, view.version),
        agreement_fields=agency.AGREEMENT_FIELDS,
    )


async def jurisdiction_page(request: Request) -> Response:
    view = await _entity_page(
        request,
        "Jurisdiction",
        jurisdiction.jurisdiction_view,
        "Jurisdiction ids are the opaque ids of the APIs (e.g. from "
        "/v1/jurisdictions?kind=COUNTY&state=TX).",
    )
    if isinstance(view, Response):
        return view
    if view.jurisdiction.kind == "STATE":  # one page per state: /states/TX
        return RedirectResponse(f"/states/{view.jurisdiction.state_code}", status_code=308)
    return page(
        "jurisdiction.html",
        view=view,
        notice=view.version.notice,
        headers=_versioned(request, view.version),
    )
