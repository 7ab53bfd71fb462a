"""The collections of /v1: how each maps onto the shared query layer and into rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from open287g.api.v1 import documents, models
from open287g.api.v1.resource import Collection, Row
from open287g.db.entities.agency import AGENCY
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.entities.dataset import DATASET, DATASET_ORDER
from open287g.db.entities.declare import Entity
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


def _paged_by_id(name: str, entity: Entity, where: type[Where], pages: IdPages[Any]) -> Collection:
    """A collection paged in id order (`pages`) under its declared filters (`where`):
    its REST parameters, its page, and the check that its id filters name rows (when it
    has any) all follow from the declaration."""

    def listing(values: dict[str, Any], cursor: str | None) -> Listing:
        return Listing(pages.page_query(read_filters(where, values), cursor), pages.ordering)

    async def check(conn: AsyncConnection, values: dict[str, Any]) -> None:
        await read_filters(where, values).check_ids(conn)

    has_ids = any(f.kind == "id" for f in where.declared.rest)
    params = filter_params(where.declared)
    return Collection(name, entity, params, listing, check=check if has_ids else None)


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
        _paged_by_id("agencies", AGENCY, agencies.AgencyFilter, agencies.PAGES),
        _paged_by_id(
            "jurisdictions", JURISDICTION, jurisdictions.JurisdictionFilter, jurisdictions.PAGES
        ),
        _paged_by_id("facilities", FACILITY, facilities.FacilityFilter, facilities.PAGES),
        _paged_by_id("policies", POLICY, policies.PolicyFilter, policies.PAGES),
        Collection(
            "program-models",
            PROGRAM_MODEL,
            (),
            lambda *_: every_row(PROGRAM_MODEL, PROGRAM_MODEL_ORDER),
        ),
        Collection("datasets", DATASET, (), lambda *_: every_row(DATASET, DATASET_ORDER)),
    )
}
