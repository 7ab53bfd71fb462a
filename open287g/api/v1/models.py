"""Response models of the rows that are not a declared entity's REST row (those are
generated: `open287g.api.v1.resource.row_model`), the agreement item, stats, changes and
problems. The OpenAPI document is generated from these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, create_model

from open287g.api.v1.resource import row_model
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.entities.document import DOCUMENT
from open287g.db.queries import detainers

# The documents' generated row model (a value, not a type, to mypy).
_DOCUMENT_ROW: Any = row_model(DOCUMENT)

AgreementItem = create_model(
    "AgreementItem",
    __base__=row_model(AGREEMENT),
    __doc__="/v1/agreements/{id}: the row, and the MOA document it links.",
    document=(
        _DOCUMENT_ROW | None,
        Field(
            description="The MOA its moaUrl names, as /v1/documents/{id} gives it (URL, "
            "sha256, pages, signatories, points of contact); null until that document is "
            "loaded."
        ),
    ),
)


class AgreementStatRow(BaseModel):
    state: str | None = None
    model: str | None = None
    status: str | None = None
    signed_month: str | None = None
    agency_type: str | None = None
    count: int


class DetainerStatRow(BaseModel):
    state: str | None = None
    facility: str | None = None
    month: dt.date | None = None
    outcome: str | None = None
    criminality: str | None = None
    citizenship: str | None = None
    county: str | None = None
    agency: str | None = None
    issued: int | None
    declined: int | None
    booked_into_detention: int | None
    pending: int | None
    decline_rate: float | None = Field(description=detainers.DECLINE_RATE_DESCRIPTION)
    rounded: bool = Field(description=detainers.ROUNDED_DESCRIPTION)
    bound: int = Field(description=detainers.BOUND_DESCRIPTION)
    suppressed: bool = Field(description=detainers.SUPPRESSED_DESCRIPTION)


class ChangeRow(BaseModel):
    seq: int
    entity: str
    id: str
    op: str = Field(description="UPSERT (record is the current one) or DELETE (a tombstone).")
    changed_at: dt.datetime
    record: dict[str, object] | None


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
