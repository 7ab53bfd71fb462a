"""The arguments of the statistics fields. Their types (`AgreementStat`, `DetainerStat` and
their keys) are generated from the declarations (`open287g.db.entities.statistics`), and
both paths read the same rows; what is written here is each field's GraphQL arguments (a
function's signature) and how they map onto the query layer (its body), which the
compiler (`graphql/roots.py`, a relation's field metadata) and the fallback resolvers
call alike."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from open287g.db.queries.agreements import AgreementCountBy, AgreementDimension
from open287g.db.queries.detainers import DetainerDimension
from open287g.graphql.inputs import AgreementFilter, DetainerFilter

GROUP_BY = "The dimensions to count by: one row per combination present."
FILTER = "Which rows to count."


def agreement_stats_arguments(
    group_by: Annotated[list[AgreementDimension], strawberry.argument(description=GROUP_BY)],
    filter: Annotated[AgreementFilter | None, strawberry.argument(description=FILTER)] = None,
    count_by: Annotated[
        AgreementCountBy,
        strawberry.argument(
            description="Count lineages (a renamed agreement once) or agreement records."
        ),
    ] = AgreementCountBy.LINEAGES,
) -> dict[str, Any]:
    return {
        "group_by": group_by,
        "filters": (filter or AgreementFilter()).to_query(),
        "count_by": count_by,
    }


def detainer_stats_arguments(
    group_by: Annotated[list[DetainerDimension], strawberry.argument(description=GROUP_BY)],
    filter: Annotated[DetainerFilter | None, strawberry.argument(description=FILTER)] = None,
) -> dict[str, Any]:
    return {"group_by": group_by, "filters": (filter or DetainerFilter()).to_query()}


def scoped_detainer_stats_arguments(
    group_by: Annotated[list[DetainerDimension], strawberry.argument(description=GROUP_BY)],
    filter: Annotated[
        DetainerFilter | None,
        strawberry.argument(description="Which rows to count (its `state` is not applied)."),
    ] = None,
) -> dict[str, Any]:
    """A jurisdiction's, agency's or facility's statistics: the parent picks the facilities
    (`statistics.JURISDICTION_SCOPE`, `AGENCY_SCOPE`, `FACILITY_SCOPE`), so the filter's
    `state` is checked but not applied (its other conditions are)."""
    args = detainer_stats_arguments(group_by, filter)
    return {**args, "filters": args["filters"].replace(state=None)}
