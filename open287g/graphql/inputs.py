"""GraphQL enums and input types; each maps onto the shared query layer's filter model."""

from __future__ import annotations

import datetime as dt

import strawberry

from open287g.db.models.enums import (
    AgencyType,
    AgreementStatus,
    DetainerOutcome,
    JurisdictionKind,
    PolicyBasis,
    PolicyStatus,
    ProgramModelCode,
)
from open287g.db.queries import agencies, agreements, detainers, jurisdictions
from open287g.db.queries.agreements import (
    AgreementChangeKind,
    AgreementCountBy,
    AgreementDimension,
    AgreementOrderField,
    Direction,
)
from open287g.db.queries.detainers import DetainerDimension
from open287g.db.queries.pagination import PageQuery, Window
from open287g.db.reference_data import resolve_state
from open287g.errors import ClientError

# The query layer's enums are the GraphQL enums (one vocabulary, registered here).
for _enum in (
    ProgramModelCode,
    AgreementStatus,
    JurisdictionKind,
    AgencyType,
    PolicyStatus,
    PolicyBasis,
    DetainerOutcome,
    AgreementDimension,
    DetainerDimension,
    AgreementOrderField,
    AgreementChangeKind,
):
    strawberry.enum(_enum)
strawberry.enum(AgreementCountBy, description=AgreementCountBy.__doc__)
strawberry.enum(Direction, name="OrderDirection")


@strawberry.input(description="`state` takes a USPS code (TX) or a state name, any case.")
class AgreementFilter:
    state: str | None = None
    model: ProgramModelCode | None = None
    status: AgreementStatus | None = None
    signed_from: dt.date | None = None
    signed_to: dt.date | None = None
    agency_name_contains: str | None = None

    def to_query(self) -> agreements.AgreementFilter:
        return agreements.AgreementFilter(
            state=resolve_state(self.state),
            model=self.model.value if self.model else None,
            status=self.status.value if self.status else None,
            signed_from=self.signed_from,
            signed_to=self.signed_to,
            agency_name_contains=self.agency_name_contains,
        )


@strawberry.input
class AgreementOrder:
    field: AgreementOrderField = AgreementOrderField.ID
    direction: Direction = Direction.ASC

    def to_query(self) -> agreements.AgreementOrder:
        return agreements.AgreementOrder(self.field, self.direction)


@strawberry.input
class AgencyFilter:
    state: str | None = None
    type: AgencyType | None = None
    name_contains: str | None = None

    def to_query(self) -> agencies.AgencyFilter:
        return agencies.AgencyFilter(
            resolve_state(self.state), self.type.value if self.type else None, self.name_contains
        )


@strawberry.input
class JurisdictionFilter:
    state: str | None = None
    kind: JurisdictionKind | None = None
    name_contains: str | None = None

    def to_query(self) -> jurisdictions.JurisdictionFilter:
        return jurisdictions.JurisdictionFilter(
            resolve_state(self.state), self.kind.value if self.kind else None, self.name_contains
        )


@strawberry.input(description="`from` and `to` are dates; the months containing them count.")
class DetainerFilter:
    state: str | None = None
    facility: str | None = None
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None
    county: str | None = strawberry.field(
        default=None, description="Five-digit FIPS code of the facilities' county."
    )
    agency: str | None = strawberry.field(
        default=None, description="Part of the name of the agency running the facility."
    )

    def to_query(self, jurisdiction_id: int | None = None) -> detainers.DetainerFilter:
        return detainers.DetainerFilter(
            resolve_state(self.state),
            self.facility,
            self.from_,
            self.to,
            jurisdiction_id,
            county=self.county,
            agency=self.agency,
        )


def agreement_page_arguments(
    filter: AgreementFilter | None, order_by: AgreementOrder | None
) -> tuple[agreements.AgreementFilter, agreements.AgreementOrder]:
    """The `agreements` field's filter and order for the query layer, checked before the
    page window by both the resolver and the compiled path (the same first error)."""
    filters = (filter or AgreementFilter()).to_query()
    order = (order_by or AgreementOrder()).to_query()
    return filters, order


def agreement_changes_arguments(
    start: dt.date, end: dt.date, shown: Window
) -> tuple[PageQuery, Window]:
    """The `agreementChanges` page and its window, checked in one order by both paths."""
    if end < start:
        raise ClientError("`to` must not be before `from`")
    query = agreements.changes_page_query(start, end, shown.query_first, shown.query_after)
    return query, shown
