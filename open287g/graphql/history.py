"""An agreement's history in GraphQL (issue 12): its observations (every ICE list that
named it, with the row's values and the file: dataset id, name, sha256). Its lineage
(`predecessor` / `successor`, their links, `lineageFirstSeen`) is declared with the
agreement (`open287g.db.entities.agreement_link`).

Observations load through the request's DataLoaders: a page of agreements asking for
them costs one statement per level, not one per agreement.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from open287g.db.models.enums import AgencyType, SnapshotKind
from open287g.db.queries.observations import ORDERING, ObservationRecord, check_cursor
from open287g.db.queries.pagination import page_size
from open287g.graphql.context import Info
from open287g.graphql.relay import Edge, PageInfo, page_edges
from open287g.graphql.stat_types import Dataset

__all__ = ["ORDERING"]


@strawberry.type(
    description="One ICE list that named the agreement, the values its row gave, and the "
    "file it came from (`dataset`: name, URL, sha256)."
)
class Observation:
    record: strawberry.Private[ObservationRecord]
    published_on: dt.date = strawberry.field(description="The list's publication date.")
    kind: SnapshotKind = strawberry.field(description="PARTICIPATING or PENDING list.")
    row_number: int = strawberry.field(description="The row in the file (1 = first row).")
    agency_name: str = strawberry.field(description="The agency name as the row wrote it.")
    agency_type: AgencyType
    county: str | None = strawberry.field(description="The county as the row wrote it.")
    signed_on: dt.date | None
    signed_raw: str | None = strawberry.field(
        description="The date text as ICE wrote it, when it could not be served as a date."
    )
    moa_url: str | None
    addendum_urls: list[str]
    dataset_id: strawberry.ID = strawberry.field(description="The source file's id (datasets).")

    @classmethod
    def of(cls, record: ObservationRecord) -> Observation:
        from open287g.db.queries.ids import to_global_id

        return cls(
            record=record,
            published_on=record.published_on,
            kind=SnapshotKind(record.kind),
            row_number=record.row_number,
            agency_name=record.agency_name,
            agency_type=AgencyType(record.agency_type),
            county=record.county,
            signed_on=record.signed_on,
            signed_raw=record.signed_raw,
            moa_url=record.moa_url,
            addendum_urls=record.addendum_urls,
            dataset_id=strawberry.ID(to_global_id("Dataset", record.dataset_id)),
        )

    @strawberry.field(description="The source file: its name, URL, sha256 and load run.")
    async def dataset(self, info: Info) -> Dataset:
        record = await info.context.loaders.dataset.load(self.record.dataset_id)
        assert record is not None, "observations reference loaded files"
        return Dataset.of(record)


@strawberry.type
class ObservationConnection:
    edges: list[Edge[Observation]]
    page_info: PageInfo


async def observations(
    info: Info, agreement_id: int, first: int | None, after: str | None
) -> ObservationConnection:
    size = page_size(first)
    check_cursor(after)
    page = await info.context.loaders.observations.load((agreement_id, size, after))
    edges, page_info = page_edges(page, [Observation.of(r) for r in page.items])
    return ObservationConnection(edges=edges, page_info=page_info)
