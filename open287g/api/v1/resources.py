"""The collections of /v1: how each maps onto the shared query layer and into rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.api.v1 import documents, models
from open287g.api.v1.resource import Collection, Row
from open287g.db.entities.agency import AGENCY
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.entities.dataset import DATASET, DATASET_ORDER
from open287g.db.entities.facility import FACILITY
from open287g.db.entities.jurisdiction import JURISDICTION
from open287g.db.entities.policy import POLICY
from open287g.db.entities.program_model import PROGRAM_MODEL, PROGRAM_MODEL_ORDER
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
    facilities,
    jurisdictions,
    policies,
)
from open287g.db.queries.ids import MAX_ID_CHARS
from open287g.db.reference_data import resolve_state
from open287g.db.rows import Listing, every_row
from open287g.web.params import STATE, Param

# Agreements ----------------------------------------------------------------------------

AGREEMENT_FILTERS = (
    STATE,
    Param("model", "string", "Program model code.", enum=tuple(ProgramModelCode)),
    Param(
        "status",
        "string",
        "ACTIVE, PENDING, ENDED (an active agreement that left the lists, also when the "
        "agency went on under another program model: see switched_to_id), WITHDRAWN (a "
        "pending application that left without becoming active) or RENAMED (listed on "
        "under a new name, after a gap, or in another state).",
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


def _agreement_listing(values: dict[str, Any], cursor: str | None) -> Listing:
    order = agreements.AgreementOrder(agreements.AgreementOrderField(values["sort"].upper()))
    query = agreements.page_query(agreement_filter(values), order, cursor)
    return Listing(query, order.name, order.direction.value)


async def _agreement_document(conn: AsyncConnection, key: int) -> Row:
    """The item links its MOA document (the one its moaUrl names) as /v1/documents/{id}
    shows it. Rows and exports don't: the link is already a column of the documents
    collection (`agreement_ids`), and an agreement's row changes only when the list does."""
    return {"document": await documents.agreement_document(conn, key)}


# Agencies ------------------------------------------------------------------------------

AGENCY_FILTERS = (
    STATE,
    Param("type", "string", "Agency type.", enum=tuple(AgencyType)),
    Param("q", "string", "Name contains (case-insensitive)."),
)


def _agency_listing(values: dict[str, Any], cursor: str | None) -> Listing:
    filters = agencies.AgencyFilter(resolve_state(values["state"]), values["type"], values["q"])
    return Listing(agencies.agency_page_query(filters, cursor), agencies.ORDERING)


# Jurisdictions -------------------------------------------------------------------------

JURISDICTION_FILTERS = (
    STATE,
    Param(
        "kind",
        "string",
        "STATE, COUNTY, PLACE (city, town) or TRIBAL.",
        enum=tuple(JurisdictionKind),
    ),
    Param("q", "string", "Name contains (case-insensitive)."),
)


def _jurisdiction_listing(values: dict[str, Any], cursor: str | None) -> Listing:
    filters = jurisdictions.JurisdictionFilter(
        resolve_state(values["state"]), values["kind"], values["q"]
    )
    return Listing(jurisdictions.jurisdiction_page_query(filters, cursor), jurisdictions.ORDERING)


# Facilities ----------------------------------------------------------------------------

JURISDICTION_ID = Param(
    "jurisdiction",
    "string",
    "A jurisdiction's id: only the jails in it (a state's every facility, a county's those "
    "placed in it, a place's those of its city or of a county wholly inside it).",
    max_length=MAX_ID_CHARS,
)
AGENCY_ID = Param(
    "agency", "string", "An agency's id: only the jails it runs.", max_length=MAX_ID_CHARS
)
FACILITY_FILTERS = (
    STATE,
    JURISDICTION_ID,
    AGENCY_ID,
    Param("code", "string", "Only the facility with this code (ORANGCA), any case."),
    Param("q", "string", "Name contains (case-insensitive)."),
)


def _facility_filter(values: dict[str, Any]) -> facilities.FacilityFilter:
    return facilities.facility_filter(
        resolve_state(values["state"]),
        jurisdiction=values["jurisdiction"],
        agency=values["agency"],
        code=values["code"],
        name_contains=values["q"],
    )


def _facility_listing(values: dict[str, Any], cursor: str | None) -> Listing:
    page = facilities.facility_page_query(_facility_filter(values), cursor)
    return Listing(page, facilities.ORDERING)


async def _facility_check(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await facilities.check_facility_filter_ids(conn, _facility_filter(values))


# Policies ------------------------------------------------------------------------------

POLICY_FILTERS = (
    STATE,
    Param("status", "string", "Policy status.", enum=tuple(PolicyStatus)),
)


def _policy_listing(values: dict[str, Any], cursor: str | None) -> Listing:
    filters = policies.PolicyFilter(resolve_state(values["state"]), values["status"])
    return Listing(policies.policy_page_query(filters, cursor), policies.ORDERING)


# Every collection; the reference collections show every row on one page.

RESOURCES: dict[str, Collection] = {
    r.name: r
    for r in (
        Collection(
            "agreements",
            AGREEMENT,
            (*AGREEMENT_FILTERS, AGREEMENT_SORT),
            _agreement_listing,
            item_model=models.AgreementItem,
            item_extra=_agreement_document,
        ),
        Collection("agencies", AGENCY, AGENCY_FILTERS, _agency_listing),
        Collection("jurisdictions", JURISDICTION, JURISDICTION_FILTERS, _jurisdiction_listing),
        Collection(
            "facilities", FACILITY, FACILITY_FILTERS, _facility_listing, check=_facility_check
        ),
        Collection("policies", POLICY, POLICY_FILTERS, _policy_listing),
        Collection(
            "program-models",
            PROGRAM_MODEL,
            (),
            lambda *_: every_row(PROGRAM_MODEL, PROGRAM_MODEL_ORDER),
        ),
        Collection("datasets", DATASET, (), lambda *_: every_row(DATASET, DATASET_ORDER)),
    )
}
