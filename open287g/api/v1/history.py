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

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from open287g.db.entities.observation import OBSERVATION
from open287g.db.queries import agreements, observations
from open287g.db.queries.ids import BadId, from_global_id, to_global_id
from open287g.db.queries.observations import ObservationRecord
from open287g.db.session import export_snapshot
from open287g.web.params import CURSOR, FORMAT, LIMIT, parse_params, shown
from open287g.web.problems import Problem
from open287g.web.responses import (
    envelope,
    export_response,
    json_response,
    next_link,
    versioned,
)

EXPORT_BATCH = 1000
PARAMS = (LIMIT, CURSOR, FORMAT)


class ObservationRow(BaseModel):
    __doc__ = OBSERVATION.description
    agreement_id: str = Field(description="The agreement's id.")
    published_on: dt.date = Field(description="The list's publication date.")
    kind: str = Field(description="PARTICIPATING or PENDING list.")
    dataset_id: str = Field(description="The source file's id in /v1/datasets.")
    file_name: str = Field(description="The source file as loaded.")
    sha256: str = Field(description="The source file's SHA-256.")
    row_number: int = Field(description="The row in the file.")
    agency_name: str = Field(description="The agency name as the row wrote it.")
    agency_type: str = Field(description=OBSERVATION.words("agency_type"))
    county: str | None = Field(description="The county as the row wrote it.")
    signed_on: dt.date | None = Field(description=OBSERVATION.words("signed_on"))
    signed_raw: str | None = Field(
        description="The date text as ICE wrote it, when it could not be served as a date."
    )
    moa_url: str | None = Field(description=OBSERVATION.words("moa_url"))
    addendum_urls: list[str] = Field(description=OBSERVATION.words("addendum_urls"))


def _rows(records: Sequence[ObservationRecord]) -> list[dict[str, Any]]:
    return [
        {
            "agreement_id": to_global_id("Agreement", r.agreement_id),
            "published_on": r.published_on,
            "kind": r.kind,
            "dataset_id": to_global_id("Dataset", r.dataset_id),
            "file_name": r.file_name,
            "sha256": r.sha256,
            "row_number": r.row_number,
            "agency_name": r.agency_name,
            "agency_type": r.agency_type,
            "county": r.county,
            "signed_on": r.signed_on,
            "signed_raw": r.signed_raw,
            "moa_url": r.moa_url,
            "addendum_urls": r.addendum_urls,
        }
        for r in records
    ]


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
    values = parse_params(request, PARAMS)
    global_id = request.path_params["id"]
    agreement_id = _agreement_key(global_id)
    engine: AsyncEngine = request.app.state.engine
    async with engine.connect() as conn:
        version, headers, cached = await versioned(request, conn)
        if cached is not None:
            return cached
        await _exists(conn, agreement_id, global_id)
        page = await observations.observation_page(
            conn, agreement_id, values["limit"], values["cursor"]
        )
    if values["format"] != "json":

        async def batches() -> AsyncIterator[list[dict[str, Any]]]:
            async with export_snapshot(engine) as conn:
                cursor = values["cursor"]
                while True:
                    found = await observations.observation_page(
                        conn, agreement_id, EXPORT_BATCH, cursor
                    )
                    yield _rows(found.items)
                    if not found.has_next:
                        return
                    cursor = found.end_cursor

        filename = f"open287g-observations-{agreement_id}-v{version.version}"
        columns = ObservationRow.model_fields
        return await export_response(
            request, values["format"], columns, batches(), filename, headers
        )
    next_cursor = page.end_cursor if page.has_next else None
    if next_cursor:
        headers["Link"] = next_link(request, "cursor", next_cursor)
    return json_response(
        envelope(version, data=_rows(page.items), next_cursor=next_cursor), headers
    )
