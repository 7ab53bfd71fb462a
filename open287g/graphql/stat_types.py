"""Aggregate types: detainer and agreement statistics. (Datasets are declared entities:
`open287g.db.entities.dataset`.)"""

from __future__ import annotations

import datetime as dt

import strawberry

from open287g.db.queries import detainers
from open287g.db.queries.detainers import DetainerDimension
from open287g.graphql.context import Info


@strawberry.type
class DetainerStatKey:
    state: str | None = None
    facility: str | None = None
    month: dt.date | None = None
    outcome: str | None = None
    criminality: str | None = None
    citizenship: str | None = None


@strawberry.type(
    description="Detainer counts for one key. Exact without a personal attribute; in a "
    "breakdown by criminality or citizenship, sums of rounded cells (see rounded and the "
    "README's Disclosure control)."
)
class DetainerStat:
    key: DetainerStatKey
    issued: int | None
    declined: int | None
    booked_into_detention: int | None
    pending: int | None
    decline_rate: float | None = strawberry.field(description=detainers.DECLINE_RATE_DESCRIPTION)
    rounded: bool = strawberry.field(description=detainers.ROUNDED_DESCRIPTION)
    suppressed: bool = strawberry.field(
        description=detainers.SUPPRESSED_DESCRIPTION,
        deprecation_reason="Small cells are rounded, never withheld: see rounded.",
    )

    @classmethod
    def of(cls, row: detainers.DetainerStatRow) -> DetainerStat:
        key = {dimension.value.lower(): value for dimension, value in row.key.items()}
        return cls(
            key=DetainerStatKey(**key),  # type: ignore[arg-type]
            issued=row.issued,
            declined=row.declined,
            booked_into_detention=row.booked_into_detention,
            pending=row.pending,
            decline_rate=row.decline_rate,
            rounded=row.rounded,
            suppressed=row.suppressed,
        )


async def detainer_stat_rows(
    info: Info,
    group_by: list[DetainerDimension],
    filters: detainers.DetainerFilter,
) -> list[DetainerStat]:
    async with info.context.engine.connect() as conn:
        rows = await detainers.detainer_stats(
            conn, group_by, filters, min_cell=info.context.settings.min_cell
        )
    return [DetainerStat.of(row) for row in rows]


@strawberry.type
class AgreementStatKey:
    state: str | None = None
    model: str | None = None
    status: str | None = None
    signed_month: str | None = None
    agency_type: str | None = None


@strawberry.type
class AgreementStat:
    key: AgreementStatKey
    count: int
