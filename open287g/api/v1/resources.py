"""The collections of /v1: how each maps onto the shared query layer and into rows."""

from __future__ import annotations

from collections.abc import Callable
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
from open287g.db.queries import (
    agencies,
    agreements,
    facilities,
    jurisdictions,
    policies,
)
from open287g.db.queries.filters import Where
from open287g.db.queries.id_pages import IdPages
from open287g.db.rows import Listing, every_row
from open287g.web.params import filter_params, read_filters, sort_param

# Agreements ----------------------------------------------------------------------------

AGREEMENT_FILTERS = filter_params(agreements.AGREEMENT_FILTERS)
AGREEMENT_SORT = sort_param(agreements.AGREEMENT_ORDERS, agreements.AgreementOrderField.ID)


def agreement_filter(values: dict[str, Any]) -> agreements.AgreementFilter:
    return read_filters(agreements.AgreementFilter, values)


def _agreement_listing(values: dict[str, Any], cursor: str | None) -> Listing:
    order = agreements.AgreementOrder(agreements.AgreementOrderField(values["sort"].upper()))
    query = agreements.page_query(agreement_filter(values), order, cursor)
    return Listing(query, order.name, order.direction.value, rendered=True)  # current data


async def _agreement_document(conn: AsyncConnection, key: int) -> Row:
    """The item links its MOA document (the one its moaUrl names) as /v1/documents/{id}
    shows it. Rows and exports don't: the link is already a column of the documents
    collection (`agreement_ids`), and an agreement's row changes only when the list does."""
    return {"document": await documents.agreement_document(conn, key)}


# The collections paged in id order: their declared filters, their pages.


def _id_listing(
    where: type[Where], pages: IdPages[Any]
) -> Callable[[dict[str, Any], str | None], Listing]:
    def listing(values: dict[str, Any], cursor: str | None) -> Listing:
        return Listing(pages.page_query(read_filters(where, values), cursor), pages.ordering)

    return listing


async def _facility_check(conn: AsyncConnection, values: dict[str, Any]) -> None:
    await read_filters(facilities.FacilityFilter, values).check_ids(conn)


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
        Collection(
            "agencies",
            AGENCY,
            filter_params(agencies.AGENCY_FILTERS),
            _id_listing(agencies.AgencyFilter, agencies.PAGES),
        ),
        Collection(
            "jurisdictions",
            JURISDICTION,
            filter_params(jurisdictions.JURISDICTION_FILTERS),
            _id_listing(jurisdictions.JurisdictionFilter, jurisdictions.PAGES),
        ),
        Collection(
            "facilities",
            FACILITY,
            filter_params(facilities.FACILITY_FILTERS),
            _id_listing(facilities.FacilityFilter, facilities.PAGES),
            check=_facility_check,
        ),
        Collection(
            "policies",
            POLICY,
            filter_params(policies.POLICY_FILTERS),
            _id_listing(policies.PolicyFilter, policies.PAGES),
        ),
        Collection(
            "program-models",
            PROGRAM_MODEL,
            (),
            lambda *_: every_row(PROGRAM_MODEL, PROGRAM_MODEL_ORDER),
        ),
        Collection("datasets", DATASET, (), lambda *_: every_row(DATASET, DATASET_ORDER)),
    )
}
