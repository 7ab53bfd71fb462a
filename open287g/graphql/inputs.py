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
from open287g.db.queries import agencies, agreements, detainers, facilities, jurisdictions
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


STATE = "Only this state: a USPS code (TX) or a name, any case."
JURISDICTION = (
    "Only the jails in this jurisdiction (its id): a state's every facility, a county's "
    "those placed in it, a place's those of its city or of a county wholly inside it."
)
AGENCY = "Only the jails this agency (its id) runs."


@strawberry.input(description="Which agreements to list; every condition given must hold.")
class AgreementFilter:
    state: str | None = strawberry.field(default=None, description=STATE)
    model: ProgramModelCode | None = strawberry.field(
        default=None, description="Only agreements of this program model."
    )
    status: AgreementStatus | None = strawberry.field(
        default=None, description="Only agreements with this status."
    )
    signed_from: dt.date | None = strawberry.field(
        default=None, description="Only agreements signed on or after this date."
    )
    signed_to: dt.date | None = strawberry.field(
        default=None, description="Only agreements signed on or before this date."
    )
    agency_name_contains: str | None = strawberry.field(
        default=None, description="Only agencies whose name contains this text (any case)."
    )

    def to_query(self) -> agreements.AgreementFilter:
        return agreements.AgreementFilter(
            state=resolve_state(self.state),
            model=self.model.value if self.model else None,
            status=self.status.value if self.status else None,
            signed_from=self.signed_from,
            signed_to=self.signed_to,
            agency_name_contains=self.agency_name_contains,
        )


@strawberry.input(description="How to sort agreements; ties go by id.")
class AgreementOrder:
    field: AgreementOrderField = strawberry.field(
        default=AgreementOrderField.ID, description="What to sort by."
    )
    direction: Direction = strawberry.field(
        default=Direction.ASC, description="Ascending or descending."
    )

    def to_query(self) -> agreements.AgreementOrder:
        return agreements.AgreementOrder(self.field, self.direction)


@strawberry.input(description="Which agencies to list; every condition given must hold.")
class AgencyFilter:
    state: str | None = strawberry.field(default=None, description=STATE)
    type: AgencyType | None = strawberry.field(
        default=None, description="Only agencies of this type."
    )
    name_contains: str | None = strawberry.field(
        default=None, description="Only agencies whose name contains this text (any case)."
    )

    def to_query(self) -> agencies.AgencyFilter:
        return agencies.AgencyFilter(
            resolve_state(self.state), self.type.value if self.type else None, self.name_contains
        )


@strawberry.input(description="Which jurisdictions to list; every condition given must hold.")
class JurisdictionFilter:
    state: str | None = strawberry.field(default=None, description=STATE)
    kind: JurisdictionKind | None = strawberry.field(
        default=None, description="Only jurisdictions of this kind."
    )
    name_contains: str | None = strawberry.field(
        default=None, description="Only jurisdictions whose name contains this text (any case)."
    )

    def to_query(self) -> jurisdictions.JurisdictionFilter:
        return jurisdictions.JurisdictionFilter(
            resolve_state(self.state), self.kind.value if self.kind else None, self.name_contains
        )


@strawberry.input(description="Which facilities to list; every condition given must hold.")
class FacilityFilter:
    state: str | None = strawberry.field(default=None, description=STATE)
    jurisdiction: strawberry.ID | None = strawberry.field(default=None, description=JURISDICTION)
    agency: strawberry.ID | None = strawberry.field(default=None, description=AGENCY)
    code: str | None = strawberry.field(
        default=None, description="Only the facility with this code (ORANGCA), any case."
    )
    name_contains: str | None = strawberry.field(
        default=None, description="Only facilities whose name contains this text (any case)."
    )

    def to_query(self) -> facilities.FacilityFilter:
        return facilities.facility_filter(
            resolve_state(self.state),
            jurisdiction=self.jurisdiction,
            agency=self.agency,
            code=self.code,
            name_contains=self.name_contains,
        )


@strawberry.input(description="`from` and `to` are dates; the months containing them count.")
class DetainerFilter:
    state: str | None = strawberry.field(default=None, description=STATE)
    facility: str | None = strawberry.field(
        default=None,
        description="One facility by its code (ORANGCA, any case) or id, or the facilities "
        "whose name contains this text (any case).",
    )
    from_: dt.date | None = strawberry.field(
        default=None, name="from", description="The first month counted (the month of it)."
    )
    to: dt.date | None = strawberry.field(
        default=None, description="The last month counted (the month of it)."
    )
    jurisdiction: strawberry.ID | None = strawberry.field(default=None, description=JURISDICTION)
    agency: strawberry.ID | None = strawberry.field(default=None, description=AGENCY)

    def to_query(self) -> detainers.DetainerFilter:
        return detainers.detainer_filter(
            resolve_state(self.state),
            self.facility,
            self.from_,
            self.to,
            jurisdiction=self.jurisdiction,
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
    query = agreements.changes_page_query(start, end, shown.query_after)
    return query, shown
