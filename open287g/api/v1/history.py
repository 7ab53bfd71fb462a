"""/v1/agreements/{id}/observations: every ICE list that named an agreement, oldest
first, with the values its row gave and the file they came from (dataset id, file name,
sha256), so any served fact leads to its source file. Cursor pages or a whole export
(`format=csv|ndjson`).

Not in the change feed or the data package: an observation never changes once loaded
(it is a row of a file, and files are immutable), so a mirror learns everything new from
the `datasets` collection it already syncs (each new list is a new dataset) and from
the agreements whose `last_seen` moved; this sub-collection is provenance to follow from
a record, not a collection to mirror.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from open287g.api.v1.compiled import export_pages, page_answer
from open287g.api.v1.resource import row_model
from open287g.db.entities.observation import OBSERVATION, OBSERVATION_ORDER, rest_page
from open287g.db.queries import agreements
from open287g.db.queries.ids import BadId, from_global_id
from open287g.db.queries.observations import ORDERING
from open287g.db.rows import Listing, fetch_row, page_sql
from open287g.web.params import CURSOR, FORMAT, LIMIT, parse_params, shown
from open287g.web.problems import Problem
from open287g.web.responses import export_response, versioned

PARAMS = (LIMIT, CURSOR, FORMAT)
# The row: the declared entity's REST columns (`db/entities/observation.py`).
ObservationRow = row_model(OBSERVATION)


def _listing(agreement_id: int, cursor: str | None) -> Listing:
    order = OBSERVATION_ORDER.order
    return Listing(rest_page(agreement_id, cursor), ORDERING, order=order)


def _agreement_key(global_id: str) -> int:
    try:
        type_name, key = from_global_id(global_id)
    except BadId:
        type_name, key = "", ""
    if type_name != "Agreement" or not key.isdigit() or len(key) > 18:
        raise Problem(404, f"no Agreement with id {shown(global_id)}")
    return int(key)


async def _exists(conn: AsyncConnection, agreement_id: int, global_id: str) -> None:
    if not await agreements.agreement_exists(conn, agreement_id):
        raise Problem(404, f"no Agreement with id {shown(global_id)}")


async def agreement_observations(request: Request) -> Response:
    """Like a collection's page (`compiled.py`): one statement answers, its body built
    by PostgreSQL from the declared rows; an export reads the same pages."""
    values = parse_params(request, PARAMS)
    global_id = request.path_params["id"]
    agreement_id = _agreement_key(global_id)
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as conn:
        version, headers, cached = await versioned(request, conn)
        if cached is not None:
            return cached
        await _exists(conn, agreement_id, global_id)
        if values["format"] == "json":
            listing = _listing(agreement_id, values["cursor"])
            return page_answer(
                request, await fetch_row(conn, page_sql(OBSERVATION, listing, values["limit"]))
            )
    _listing(agreement_id, values["cursor"])  # a bad cursor: 400 now

    def pages(cursor: str | None) -> Listing:
        return _listing(agreement_id, cursor)

    batches = export_pages(engine, OBSERVATION, pages, values["cursor"])
    filename = f"open287g-observations-{agreement_id}-v{version.version}"
    columns = [column.name for column in OBSERVATION.rest]
    return await export_response(request, values["format"], columns, batches, filename, headers)
