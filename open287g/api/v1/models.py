"""Response models: the row shape of each collection (also its CSV columns, in order) and
the envelopes. The OpenAPI document is generated from these."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from open287g.api.v1.documents import DocumentRow
from open287g.db.queries import detainers


class AgreementRow(BaseModel):
    id: str
    agency_id: str
    agency_name: str
    state: str
    model: str
    status: str
    signed_on: dt.date | None = Field(description="Null when ICE's date is unreadable.")
    signed_raw: str | None = Field(description="The date text as ICE wrote it.")
    moa_url: str | None
    addendum_urls: list[str]
    first_seen: dt.date
    last_seen: dt.date
    activated_on: dt.date | None = Field(
        description="The first participating list that carried it (pending → active)."
    )
    lineage_first_seen: dt.date = Field(
        description="The first list naming it or any predecessor (a rename keeps its history)."
    )
    predecessor_id: str | None = Field(
        description="The agreement this one continues: ICE renamed the agency."
    )
    predecessor_method: str | None = Field(
        description="Why it was linked: moa-url, name-similarity or override."
    )
    predecessor_score: float | None = Field(
        description="Name similarity (0-100) of the two names' cores."
    )
    successor_id: str | None = Field(
        description="The agreement that continues this one (status RENAMED)."
    )
    successor_method: str | None = Field(
        description="Why it was linked: moa-url, name-similarity or override."
    )
    successor_score: float | None = Field(
        description="Name similarity (0-100) of the two names' cores."
    )


class AgreementItem(AgreementRow):
    """/v1/agreements/{id}: the row, and the MOA document it links."""

    document: DocumentRow | None = Field(
        description="The MOA its moaUrl names, as /v1/documents/{id} gives it (URL, sha256, "
        "pages, signatories, points of contact); null until that document is loaded."
    )


class AgencyRow(BaseModel):
    id: str
    name: str
    type: str
    state: str
    county: str | None
    jurisdiction_id: str | None


class JurisdictionRow(BaseModel):
    id: str
    kind: str
    name: str
    state: str
    fips: str | None
    parent_id: str | None


class PolicyRow(BaseModel):
    id: str
    jurisdiction_id: str
    status: str
    declared_sanctuary: bool
    policy_name: str | None
    effective_date: dt.date | None
    source_title: str | None
    source_url: str | None
    notes: str | None


class ProgramModelRow(BaseModel):
    id: str
    code: str
    name: str
    description: str
    legal_basis: str


class DatasetRow(BaseModel):
    id: str
    dataset: str
    name: str
    url: str | None
    sha256: str
    bytes: int
    fetched_at: dt.datetime
    snapshot_kind: str | None
    snapshot_date: dt.date | None
    is_demo: bool = Field(description="Invented demo data, not real.")
    is_synthetic: bool = Field(description="Synthetic test data, not real.")
    load_run_id: int
    loaded_at: dt.datetime
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    ended: int
    rejected: int
    repaired: int


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
    issued: int | None
    declined: int | None
    booked_into_detention: int | None
    pending: int | None
    decline_rate: float | None = Field(description=detainers.DECLINE_RATE_DESCRIPTION)
    rounded: bool = Field(description=detainers.ROUNDED_DESCRIPTION)
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
