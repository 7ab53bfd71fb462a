"""An agreement's history in GraphQL (issue 12): its observations (every ICE list that
named it, with the row's values and the file: dataset id, name, sha256) and its lineage
(`predecessor` / `successor` when ICE renamed the agency, each link with why it was made,
and the lineage's first sight).

Relations load through the request's DataLoaders: a page of agreements asking for
observations or lineage costs one statement per level, not one per agreement.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from open287g.db.models.enums import AgencyType, SnapshotKind
from open287g.db.queries.lineage import Lineage, LinkRecord
from open287g.db.queries.observations import ORDERING, ObservationRecord, check_cursor
from open287g.db.queries.pagination import page_size
from open287g.graphql.context import Info
from open287g.graphql.entity_types import load_node
from open287g.graphql.relay import Edge, PageInfo, page_edges
from open287g.graphql.stat_types import Dataset

if TYPE_CHECKING:
    from open287g.graphql.types import Agreement

__all__ = ["ORDERING"]


@strawberry.enum(description="Why two agreements were linked as one, renamed.")
class LinkMethod(enum.Enum):
    MOA_URL = "moa-url"
    NAME_SIMILARITY = "name-similarity"
    OVERRIDE = "override"


@strawberry.type(
    description="One rename: `predecessor` was listed until `successor` took its place "
    '(README "Lineage").'
)
class AgreementLink:
    link: strawberry.Private[LinkRecord]
    method: LinkMethod
    score: float | None = strawberry.field(
        description="rapidfuzz similarity (0-100) of the two names' cores."
    )
    evidence: str = strawberry.field(
        description="The shared MOA URL, the two names compared, or the reviewer's note."
    )

    @classmethod
    def of(cls, link: LinkRecord) -> AgreementLink:
        return cls(
            link=link, method=LinkMethod(link.method), score=link.score, evidence=link.evidence
        )

    @strawberry.field
    async def predecessor(
        self, info: Info
    ) -> Annotated[Agreement, strawberry.lazy("open287g.graphql.types")]:
        return await _agreement(info, self.link.predecessor_id)

    @strawberry.field
    async def successor(
        self, info: Info
    ) -> Annotated[Agreement, strawberry.lazy("open287g.graphql.types")]:
        return await _agreement(info, self.link.successor_id)


async def _agreement(info: Info, agreement_id: int) -> Agreement:
    found: Agreement | None = await load_node(info, "Agreement", agreement_id)
    assert found is not None, "links reference agreements (ON DELETE CASCADE)"
    return found


async def lineage(info: Info, agreement_id: int) -> Lineage | None:
    return await info.context.loaders.lineage.load(agreement_id)


async def linked(info: Info, agreement_id: int, before: bool) -> Agreement | None:
    found = await lineage(info, agreement_id)
    link = (found.predecessor if before else found.successor) if found else None
    if link is None:
        return None
    return await _agreement(info, link.predecessor_id if before else link.successor_id)


async def link_of(info: Info, agreement_id: int, before: bool) -> AgreementLink | None:
    found = await lineage(info, agreement_id)
    link = (found.predecessor if before else found.successor) if found else None
    return AgreementLink.of(link) if link else None


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
