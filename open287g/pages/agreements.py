"""The agreements the pages show: objects of the Agreement declaration, compiled into one
statement as GraphQL's are (`compiler.read_objects`), with the values the templates read,
each the Python type its column declares."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.db.compiler import Pick, read_objects
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.queries.agreements import AgreementFilter, agreement_rows

_COLUMNS = (
    "status",
    "signed_on",
    "signed_raw",
    "moa_url",
    "addendum_urls",
    "first_seen",
    "last_seen",
)
# `id` and `agency.id` are the rows' keys (the pages link by global id, anchor by key).
PICKS = (
    Pick("id", "__key"),
    *(Pick(name, name) for name in _COLUMNS),
    Pick("agency", "agency", {}, (Pick("id", "__key"),)),
    Pick("model", "model", {}, (Pick("code", "code"),)),
)


async def agreements(
    conn: AsyncConnection,
    filters: AgreementFilter | None = None,
    *,
    ids: Sequence[int] | None = None,
    agency_ids: Sequence[int] | None = None,
) -> list[SimpleNamespace]:
    """The agreements matching `filters` (with `ids`, of `agency_ids`), in id order."""
    rows = agreement_rows(filters or AgreementFilter(), ids=ids, agency_ids=agency_ids)
    return await read_objects(conn, AGREEMENT, rows, PICKS)
