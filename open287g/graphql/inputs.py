"""GraphQL enums and input types; each maps onto the shared query layer's filter model."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Optional, TypeVar

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
from open287g.db.queries.filters import Filter, Where
from open287g.db.queries.pagination import PageQuery, Window
from open287g.errors import ClientError

W = TypeVar("W", bound=Where)

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


class FilterInput(Generic[W]):
    """A GraphQL filter input generated from a collection's declared filters
    (`filter_input`): its fields are the filters GraphQL offers."""

    where: ClassVar[type[Any]]

    def to_query(self) -> W:
        """The query layer's filter (`Where.read`: states resolved, ids' keys)."""
        declared = self.where.declared.graphql
        found: W = self.where.read({f.name: getattr(self, f.name) for f in declared})
        return found


def _field_type(f: Filter) -> Any:
    if f.kind == "date":
        return dt.date
    if f.kind == "enum":
        return f.enum
    if f.kind == "id":
        return strawberry.ID
    return str


def filter_input(where: type[Where], name: str, description: str) -> Any:
    """The input type `name` of `where`'s declared filters, in their order: each an
    optional field of the filter's type (an enum's GraphQL enum, `ID`, `Date`, `String`)
    described by its declaration."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"where": where, "__module__": __name__}
    for f in where.declared.graphql:
        annotations[f.name] = Optional[_field_type(f)]  # noqa: UP045 (a runtime type)
        namespace[f.name] = strawberry.field(
            default=None, description=f.description, name=f.graphql_name
        )
    namespace["__annotations__"] = annotations
    return strawberry.input(type(name, (FilterInput,), namespace), description=description)


if TYPE_CHECKING:
    AgreementFilter = FilterInput[agreements.AgreementFilter]
    AgencyFilter = FilterInput[agencies.AgencyFilter]
    JurisdictionFilter = FilterInput[jurisdictions.JurisdictionFilter]
    FacilityFilter = FilterInput[facilities.FacilityFilter]
    DetainerFilter = FilterInput[detainers.DetainerFilter]
else:
    AgreementFilter = filter_input(
        agreements.AgreementFilter,
        "AgreementFilter",
        "Which agreements to list; every condition given must hold.",
    )
    AgencyFilter = filter_input(
        agencies.AgencyFilter,
        "AgencyFilter",
        "Which agencies to list; every condition given must hold.",
    )
    JurisdictionFilter = filter_input(
        jurisdictions.JurisdictionFilter,
        "JurisdictionFilter",
        "Which jurisdictions to list; every condition given must hold.",
    )
    FacilityFilter = filter_input(
        facilities.FacilityFilter,
        "FacilityFilter",
        "Which facilities to list; every condition given must hold.",
    )
    DetainerFilter = filter_input(
        detainers.DetainerFilter,
        "DetainerFilter",
        "`from` and `to` are dates; the months containing them count.",
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
