"""The collections of /v1: how each maps onto the shared query layer and into rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.api.v1 import documents, models
from open287g.api.v1.params import STATE, Param
from open287g.api.v1.resource import Resource, Row
from open287g.db.models.enums import (
    AgencyType,
    AgreementStatus,
    JurisdictionKind,
    PolicyStatus,
    ProgramModelCode,
)
from open287g.db.queries import (
    agencies,
    agreements,
    jurisdictions,
    lineage,
    policies,
    reference,
)
from open287g.db.queries import documents as document_queries
from open287g.db.queries.ids import to_global_id
from open287g.db.queries.pagination import Page
from open287g.db.reference_data import resolve_state


def _gid(type_name: str, key: int | str | None) -> str | None:
    return None if key is None else to_global_id(type_name, key)


# Agreements ----------------------------------------------------------------------------

AGREEMENT_FILTERS = (
    STATE,
    Param("model", "string", "Program model code.", enum=tuple(ProgramModelCode)),
    Param(
        "status",
        "string",
        "ACTIVE, PENDING, ENDED (a real termination) or RENAMED (listed on under a new name).",
        enum=tuple(AgreementStatus),
    ),
    Param("signed_from", "date", "Signed on or after (YYYY-MM-DD)."),
    Param("signed_to", "date", "Signed on or before (YYYY-MM-DD)."),
    Param("q", "string", "Agency name contains (case-insensitive)."),
)


def agreement_filter(values: dict[str, Any]) -> agreements.AgreementFilter:
    return agreements.AgreementFilter(
        state=resolve_state(values["state"]),
        model=values["model"],
        status=values["status"],
        signed_from=values["signed_from"],
        signed_to=values["signed_to"],
        agency_name_contains=values["q"],
    )


AGREEMENT_SORT = Param(
    "sort",
    "string",
    "id (default), or relevance: best match of `q` first (without `q`, id order).",
    enum=("id", "relevance"),
    default="id",
)


async def _agreement_page(
    conn: AsyncConnection, values: dict[str, Any], limit: int, cursor: str | None
) -> Page[agreements.AgreementRecord]:
    order = agreements.AgreementOrder(agreements.AgreementOrderField(values["sort"].upper()))
    return await agreements.agreement_page(conn, agreement_filter(values), order, limit, cursor)


async def _agreement_rows(
    conn: AsyncConnection, records: Sequence[agreements.AgreementRecord]
) -> list[Row]:
    names = await agencies.agencies_by_ids(conn, sorted({r.agency_id for r in records}))
    found = await lineage.lineages(conn, [r.id for r in records])
    return [
        {
            "id": to_global_id("Agreement", r.id),
            "agency_id": to_global_id("Agency", r.agency_id),
            "agency_name": names[r.agency_id].name,
            "state": r.state_code,
            "model": r.model_code,
            "status": r.status,
            "signed_on": r.signed_on,
            "signed_raw": r.signed_raw,
            "moa_url": r.moa_url,
            "addendum_urls": r.addendum_urls,
            "first_seen": r.first_seen,
            "last_seen": r.last_seen,
            "activated_on": r.activated_on,
            **_lineage_columns(found.get(r.id), r.first_seen),
        }
        for r in records
    ]


async def _agreement_document(conn: AsyncConnection, record: agreements.AgreementRecord) -> Row:
    """The item links its MOA document (the one its moaUrl names) as /v1/documents/{id}
    shows it. Rows and exports don't: the link is already a column of the documents
    collection (`agreement_ids`), and an agreement's row changes only when the list does."""
    found = await document_queries.documents_of_agreements(conn, [record.id])
    document = found.get(record.id)
    [row] = await documents.document_rows(conn, [document]) if document else [None]
    return {"document": row}


def _lineage_columns(found: lineage.Lineage | None, first_seen: Any) -> Row:
    before = found.predecessor if found else None
    after = found.successor if found else None
    return {
        "lineage_first_seen": found.first_seen if found else first_seen,
        "predecessor_id": _gid("Agreement", before.predecessor_id if before else None),
        "predecessor_method": before.method if before else None,
        "predecessor_score": before.score if before else None,
        "successor_id": _gid("Agreement", after.successor_id if after else None),
        "successor_method": after.method if after else None,
        "successor_score": after.score if after else None,
    }


# Agencies ------------------------------------------------------------------------------

AGENCY_FILTERS = (
    STATE,
    Param("type", "string", "Agency type.", enum=tuple(AgencyType)),
    Param("q", "string", "Name contains (case-insensitive)."),
)


async def _agency_page(
    conn: AsyncConnection, values: dict[str, Any], limit: int, cursor: str | None
) -> Page[agencies.AgencyRecord]:
    filters = agencies.AgencyFilter(resolve_state(values["state"]), values["type"], values["q"])
    return await agencies.agency_page(conn, filters, limit, cursor)


async def _agency_rows(
    conn: AsyncConnection, records: Sequence[agencies.AgencyRecord]
) -> list[Row]:
    return [
        {
            "id": to_global_id("Agency", r.id),
            "name": r.name,
            "type": r.type,
            "state": r.state_code,
            "county": r.county,
            "jurisdiction_id": _gid("Jurisdiction", r.jurisdiction_id),
        }
        for r in records
    ]


# Jurisdictions -------------------------------------------------------------------------

JURISDICTION_FILTERS = (
    STATE,
    Param("kind", "string", "STATE, COUNTY, CITY or TRIBAL.", enum=tuple(JurisdictionKind)),
    Param("q", "string", "Name contains (case-insensitive)."),
)


async def _jurisdiction_page(
    conn: AsyncConnection, values: dict[str, Any], limit: int, cursor: str | None
) -> Page[jurisdictions.JurisdictionRecord]:
    filters = jurisdictions.JurisdictionFilter(
        resolve_state(values["state"]), values["kind"], values["q"]
    )
    return await jurisdictions.jurisdiction_page(conn, filters, limit, cursor)


async def _jurisdiction_rows(
    conn: AsyncConnection, records: Sequence[jurisdictions.JurisdictionRecord]
) -> list[Row]:
    return [
        {
            "id": to_global_id("Jurisdiction", r.id),
            "kind": r.kind,
            "name": r.name,
            "state": r.state_code,
            "fips": r.fips,
            "parent_id": _gid("Jurisdiction", r.parent_id),
        }
        for r in records
    ]


# Policies ------------------------------------------------------------------------------

POLICY_FILTERS = (
    STATE,
    Param("status", "string", "Policy status.", enum=tuple(PolicyStatus)),
)


async def _policy_page(
    conn: AsyncConnection, values: dict[str, Any], limit: int, cursor: str | None
) -> Page[jurisdictions.PolicyRecord]:
    filters = policies.PolicyFilter(resolve_state(values["state"]), values["status"])
    return await policies.policy_page(conn, filters, limit, cursor)


async def _policy_rows(
    conn: AsyncConnection, records: Sequence[jurisdictions.PolicyRecord]
) -> list[Row]:
    return [
        {
            "id": to_global_id("Policy", r.id),
            "jurisdiction_id": to_global_id("Jurisdiction", r.jurisdiction_id),
            "status": r.status,
            "declared_sanctuary": r.declared_sanctuary,
            "policy_name": r.policy_name,
            "effective_date": r.effective_date,
            "source_title": r.source_title,
            "source_url": r.source_url,
            "notes": r.notes,
        }
        for r in records
    ]


# Small reference collections: one page holds them all ----------------------------------


async def _model_page(
    conn: AsyncConnection, values: dict[str, Any], limit: int, cursor: str | None
) -> Page[reference.ProgramModelRecord]:
    found = await reference.program_models(conn)
    return Page(found, False, ["" for _ in found])


async def _models_by_code(
    conn: AsyncConnection, codes: list[Any]
) -> dict[Any, reference.ProgramModelRecord]:
    return {m.code: m for m in await reference.program_models(conn) if m.code in codes}


async def _model_rows(
    conn: AsyncConnection, records: Sequence[reference.ProgramModelRecord]
) -> list[Row]:
    return [{"id": to_global_id("ProgramModel", r.code), **vars(r)} for r in records]


async def _dataset_page(
    conn: AsyncConnection, values: dict[str, Any], limit: int, cursor: str | None
) -> Page[reference.DatasetRecord]:
    found = await reference.datasets(conn)
    return Page(found, False, ["" for _ in found])


async def _datasets_by_id(
    conn: AsyncConnection, ids: list[Any]
) -> dict[Any, reference.DatasetRecord]:
    return {d.id: d for d in await reference.datasets(conn) if d.id in ids}


async def _dataset_rows(
    conn: AsyncConnection, records: Sequence[reference.DatasetRecord]
) -> list[Row]:
    return [{**vars(r), "id": to_global_id("Dataset", r.id)} for r in records]


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource(
            "agreements",
            "Agreement",
            models.AgreementRow,
            (*AGREEMENT_FILTERS, AGREEMENT_SORT),
            _agreement_page,
            agreements.agreements_by_ids,
            _agreement_rows,
            item_model=models.AgreementItem,
            item_extra=_agreement_document,
        ),
        Resource(
            "agencies",
            "Agency",
            models.AgencyRow,
            AGENCY_FILTERS,
            _agency_page,
            agencies.agencies_by_ids,
            _agency_rows,
        ),
        Resource(
            "jurisdictions",
            "Jurisdiction",
            models.JurisdictionRow,
            JURISDICTION_FILTERS,
            _jurisdiction_page,
            jurisdictions.jurisdictions_by_ids,
            _jurisdiction_rows,
        ),
        Resource(
            "policies",
            "Policy",
            models.PolicyRow,
            POLICY_FILTERS,
            _policy_page,
            policies.policies_by_ids,
            _policy_rows,
        ),
        Resource(
            "program-models",
            "ProgramModel",
            models.ProgramModelRow,
            (),
            _model_page,
            _models_by_code,
            _model_rows,
            key_is_int=False,
        ),
        Resource(
            "datasets",
            "Dataset",
            models.DatasetRow,
            (),
            _dataset_page,
            _datasets_by_id,
            _dataset_rows,
        ),
    )
}
