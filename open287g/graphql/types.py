"""GraphQL object types. Each wraps a query-layer record; relations resolve through the
request's DataLoaders, so a page costs one statement per level."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, TypeVar, cast

import strawberry

from open287g.db.models.enums import (
    AgencyType,
    AgreementStatus,
    JurisdictionKind,
    PolicyStatus,
    ProgramModelCode,
)
from open287g.db.queries import detainers
from open287g.db.queries.agencies import AgencyRecord, OfficialRecord
from open287g.db.queries.agreements import AgreementRecord
from open287g.db.queries.detainers import DetainerDimension
from open287g.db.queries.ids import to_global_id
from open287g.db.queries.jurisdictions import JurisdictionRecord, PolicyRecord
from open287g.db.queries.reference import ProgramModelRecord
from open287g.graphql.context import Info
from open287g.graphql.inputs import AgreementChangeKind, DetainerFilter
from open287g.graphql.relay import Edge, Node, PageInfo, slice_nested
from open287g.graphql.stat_types import DetainerStat, detainer_stat_rows

if TYPE_CHECKING:
    from open287g.graphql.history import AgreementLink, ObservationConnection
    from open287g.graphql.moa_documents import Document

T = TypeVar("T")


@strawberry.type
class ProgramModel(Node):
    code: ProgramModelCode
    name: str
    description: str
    legal_basis: str

    @classmethod
    def of(cls, record: ProgramModelRecord) -> ProgramModel:
        return cls(
            id=strawberry.ID(to_global_id("ProgramModel", record.code)),
            code=ProgramModelCode(record.code),
            name=record.name,
            description=record.description,
            legal_basis=record.legal_basis,
        )


@strawberry.type
class Policy(Node):
    status: PolicyStatus
    declared_sanctuary: bool
    policy_name: str | None
    effective_date: dt.date | None
    source_title: str | None
    source_url: str | None
    notes: str | None

    @classmethod
    def of(cls, record: PolicyRecord) -> Policy:
        return cls(
            id=strawberry.ID(to_global_id("Policy", record.id)),
            status=PolicyStatus(record.status),
            declared_sanctuary=record.declared_sanctuary,
            policy_name=record.policy_name,
            effective_date=record.effective_date,
            source_title=record.source_title,
            source_url=record.source_url,
            notes=record.notes,
        )


@strawberry.enum(description="Where an official comes from.")
class OfficialSourceKind(enum.Enum):
    CSV = "csv"
    DOCUMENT = "document"


@strawberry.type(description="The evidence an official rests on.")
class OfficialSource:
    kind: OfficialSourceKind
    url: str | None
    sha256: str | None = strawberry.field(description="The MOA's sha256 (documents only).")
    page: int | None = strawberry.field(description="The MOA page of the signature.")


@strawberry.type
class Official(Node):
    name: str
    title: str | None
    term_start: dt.date | None
    term_end: dt.date | None
    source_url: str | None
    evidence_on: dt.date | None = strawberry.field(
        description="The date the source shows them in office (an MOA's signing date)."
    )
    is_current: bool = strawberry.field(
        description="The agency's most recent evidence (evidenceOn, else termStart)."
    )
    source: OfficialSource

    @classmethod
    def of(cls, record: OfficialRecord) -> Official:
        return cls(
            id=strawberry.ID(to_global_id("Official", record.id)),
            name=record.name,
            title=record.title,
            term_start=record.term_start,
            term_end=record.term_end,
            source_url=record.source_url,
            evidence_on=record.evidence_on,
            is_current=record.is_current,
            source=OfficialSource(
                kind=OfficialSourceKind.DOCUMENT if record.document_id else OfficialSourceKind.CSV,
                url=record.source_url,
                sha256=record.document_sha256,
                page=record.source_page,
            ),
        )


def _status(policy: PolicyRecord | None) -> PolicyStatus:
    return PolicyStatus(policy.status) if policy else PolicyStatus.UNKNOWN


# A sync resolver may return an awaitable: graphql-core awaits it. The relation resolvers
# below use that to answer from preloaded objects without a coroutine per object, and
# `cast` only tells mypy what the awaited value will be.


async def _policy(info: Info, jurisdiction_id: int | None) -> PolicyRecord | None:
    if jurisdiction_id is None:
        return None
    return await info.context.loaders.policy_of_jurisdiction.load(jurisdiction_id)


@strawberry.type
class Agreement(Node):
    record: strawberry.Private[AgreementRecord]
    status: AgreementStatus
    signed_on: dt.date | None = strawberry.field(
        description="Null when ICE's date cannot be read unambiguously; see signedRaw."
    )
    signed_raw: str | None = strawberry.field(description="The date text as ICE wrote it.")
    moa_url: str | None
    addendum_urls: list[str]
    first_seen: dt.date
    last_seen: dt.date
    activated_on: dt.date | None = strawberry.field(
        description="The first participating list that carried it (pending → active)."
    )

    @classmethod
    def of(cls, record: AgreementRecord) -> Agreement:
        return cls(
            id=strawberry.ID(to_global_id("Agreement", record.id)),
            record=record,
            status=AgreementStatus(record.status),
            signed_on=record.signed_on,
            signed_raw=record.signed_raw,
            moa_url=record.moa_url,
            addendum_urls=record.addendum_urls,
            first_seen=record.first_seen,
            last_seen=record.last_seen,
            activated_on=record.activated_on,
        )

    # Filled by graphql/eager.py for a whole page at once; the resolvers below then answer
    # without a coroutine per object, and only fall back to the DataLoaders when not.
    agency_obj: strawberry.Private[Agency | None] = None
    model_obj: strawberry.Private[ProgramModel | None] = None

    @strawberry.field
    def agency(self, info: Info) -> Agency:
        if self.agency_obj is not None:
            return self.agency_obj
        return cast(Agency, self._load_agency(info))

    async def _load_agency(self, info: Info) -> Agency:
        record = await info.context.loaders.agency.load(self.record.agency_id)
        assert record is not None, "agreements always reference an agency"
        return Agency.of(record)

    @strawberry.field
    def model(self, info: Info) -> ProgramModel:
        if self.model_obj is not None:
            return self.model_obj
        return cast(ProgramModel, self._load_model(info))

    async def _load_model(self, info: Info) -> ProgramModel:
        record = await info.context.loaders.program_model.load(self.record.model_code)
        assert record is not None, "program models are reference data"
        return ProgramModel.of(record)

    @strawberry.field(description="Its MOA document (the file its moaUrl names), once loaded.")
    async def document(
        self, info: Info
    ) -> Annotated[Document, strawberry.lazy("open287g.graphql.moa_documents")] | None:
        from open287g.graphql.moa_documents import document_of_agreement

        return await document_of_agreement(info, self.record.id)

    @strawberry.field(
        description="Every ICE list that named it, oldest first: the row's values and the "
        "file (dataset, sha256) they came from."
    )
    async def observations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Annotated[ObservationConnection, strawberry.lazy("open287g.graphql.history")]:
        from open287g.graphql import history

        return await history.observations(info, self.record.id, first, after)

    @strawberry.field(description="The agreement this one continues (ICE renamed the agency).")
    async def predecessor(self, info: Info) -> Agreement | None:
        from open287g.graphql import history

        return await history.linked(info, self.record.id, before=True)

    @strawberry.field(description="The agreement that continues this one (status RENAMED).")
    async def successor(self, info: Info) -> Agreement | None:
        from open287g.graphql import history

        return await history.linked(info, self.record.id, before=False)

    @strawberry.field(description="The link to the predecessor and why it was made.")
    async def predecessor_link(
        self, info: Info
    ) -> Annotated[AgreementLink, strawberry.lazy("open287g.graphql.history")] | None:
        from open287g.graphql import history

        return await history.link_of(info, self.record.id, before=True)

    @strawberry.field(description="The link to the successor and why it was made.")
    async def successor_link(
        self, info: Info
    ) -> Annotated[AgreementLink, strawberry.lazy("open287g.graphql.history")] | None:
        from open287g.graphql import history

        return await history.link_of(info, self.record.id, before=False)

    @strawberry.field(
        description="The first list naming it or any predecessor: a rename does not restart "
        "the history (firstSeen does)."
    )
    async def lineage_first_seen(self, info: Info) -> dt.date:
        from open287g.graphql import history

        found = await history.lineage(info, self.record.id)
        return found.first_seen if found else self.record.first_seen

    @strawberry.field(description="Policy status of the agency's jurisdiction (or its parents).")
    def policy_status(self, info: Info) -> PolicyStatus:
        if self.agency_obj is not None and self.agency_obj.policy_loaded:
            return _status(self.agency_obj.policy_rec)
        return cast(PolicyStatus, self._load_policy_status(info))

    async def _load_policy_status(self, info: Info) -> PolicyStatus:
        agency = await info.context.loaders.agency.load(self.record.agency_id)
        return _status(await _policy(info, agency.jurisdiction_id if agency else None))


@strawberry.type
class AgreementConnection:
    edges: list[Edge[Agreement]]
    page_info: PageInfo
    total_count: int


def _jurisdiction(
    info: Info, loaded: bool, preloaded: Jurisdiction | None, jurisdiction_id: int | None
) -> Jurisdiction | None:
    """The preloaded jurisdiction, or (not preloaded) an awaitable that loads it."""
    if loaded or jurisdiction_id is None:
        return preloaded
    return cast(Jurisdiction | None, _load_jurisdiction(info, jurisdiction_id))


async def _load_jurisdiction(info: Info, jurisdiction_id: int) -> Jurisdiction | None:
    record = await info.context.loaders.jurisdiction.load(jurisdiction_id)
    return Jurisdiction.of(record) if record else None


def _nested_agreements(
    records: Sequence[AgreementRecord], first: int | None, after: str | None
) -> AgreementConnection:
    nodes = [Agreement.of(r) for r in records]
    edges, page = slice_nested(nodes, [r.id for r in records], first, after, "nested:agreements")
    return AgreementConnection(edges=edges, page_info=page, total_count=len(nodes))


@strawberry.type
class Agency(Node):
    record: strawberry.Private[AgencyRecord]
    name: str
    type: AgencyType
    state: str
    county: str | None

    @classmethod
    def of(cls, record: AgencyRecord) -> Agency:
        return cls(
            id=strawberry.ID(to_global_id("Agency", record.id)),
            record=record,
            name=record.name,
            type=AgencyType(record.type),
            state=record.state_code,
            county=record.county,
        )

    jurisdiction_obj: strawberry.Private[Jurisdiction | None] = None
    jurisdiction_loaded: strawberry.Private[bool] = False
    policy_rec: strawberry.Private[PolicyRecord | None] = None
    policy_loaded: strawberry.Private[bool] = False

    @strawberry.field
    def jurisdiction(self, info: Info) -> Jurisdiction | None:
        return _jurisdiction(
            info, self.jurisdiction_loaded, self.jurisdiction_obj, self.record.jurisdiction_id
        )

    @strawberry.field
    async def agreements(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AgreementConnection:
        records = await info.context.loaders.agreements_of_agency.load(self.record.id)
        return _nested_agreements(records, first, after)

    @strawberry.field
    async def officials(self, info: Info) -> list[Official]:
        return [
            Official.of(r)
            for r in await info.context.loaders.officials_of_agency.load(self.record.id)
        ]

    @strawberry.field
    def policy_status(self, info: Info) -> PolicyStatus:
        if self.policy_loaded:
            return _status(self.policy_rec)
        return cast(PolicyStatus, self._load_policy_status(info))

    async def _load_policy_status(self, info: Info) -> PolicyStatus:
        return _status(await _policy(info, self.record.jurisdiction_id))

    @strawberry.field
    async def policy(self, info: Info) -> Policy | None:
        policy = (
            self.policy_rec
            if self.policy_loaded
            else await _policy(info, self.record.jurisdiction_id)
        )
        return Policy.of(policy) if policy else None


@strawberry.type
class AgencyConnection:
    edges: list[Edge[Agency]]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Jurisdiction(Node):
    record: strawberry.Private[JurisdictionRecord]
    kind: JurisdictionKind
    name: str
    state_code: str
    fips: str | None

    @classmethod
    def of(cls, record: JurisdictionRecord) -> Jurisdiction:
        return cls(
            id=strawberry.ID(to_global_id("Jurisdiction", record.id)),
            record=record,
            kind=JurisdictionKind(record.kind),
            name=record.name,
            state_code=record.state_code,
            fips=record.fips,
        )

    parent_obj: strawberry.Private[Jurisdiction | None] = None
    parent_loaded: strawberry.Private[bool] = False
    policy_rec: strawberry.Private[PolicyRecord | None] = None
    policy_loaded: strawberry.Private[bool] = False

    @strawberry.field
    def parent(self, info: Info) -> Jurisdiction | None:
        return _jurisdiction(info, self.parent_loaded, self.parent_obj, self.record.parent_id)

    async def _policy(self, info: Info) -> PolicyRecord | None:
        return self.policy_rec if self.policy_loaded else await _policy(info, self.record.id)

    @strawberry.field
    async def policy(self, info: Info) -> Policy | None:
        policy = await self._policy(info)
        return Policy.of(policy) if policy else None

    @strawberry.field
    def policy_status(self, info: Info) -> PolicyStatus:
        if self.policy_loaded:
            return _status(self.policy_rec)
        return cast(PolicyStatus, self._load_policy_status(info))

    async def _load_policy_status(self, info: Info) -> PolicyStatus:
        return _status(await self._policy(info))

    @strawberry.field
    async def declared_sanctuary(self, info: Info) -> bool | None:
        policy = await self._policy(info)
        return policy.declared_sanctuary if policy else None

    @strawberry.field(description="Agencies serving it or any jurisdiction inside it.")
    async def agencies(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AgencyConnection:
        records = await info.context.loaders.agencies_of_jurisdiction.load(self.record.id)
        nodes = [Agency.of(r) for r in records]
        edges, page = slice_nested(nodes, [r.id for r in records], first, after, "nested:agencies")
        return AgencyConnection(edges=edges, page_info=page, total_count=len(nodes))

    @strawberry.field(description="Agreements of the agencies serving it.")
    async def agreements(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> AgreementConnection:
        agencies = await info.context.loaders.agencies_of_jurisdiction.load(self.record.id)
        lists = await info.context.loaders.agreements_of_agency.load_many([a.id for a in agencies])
        records = sorted((r for records in lists for r in records), key=lambda r: r.id)
        return _nested_agreements(records, first, after)

    @strawberry.field
    async def detainer_stats(
        self, info: Info, group_by: list[DetainerDimension], filter: DetainerFilter | None = None
    ) -> list[DetainerStat]:
        base = (filter or DetainerFilter()).to_query()
        if self.record.kind == JurisdictionKind.STATE:
            scoped = detainers.DetainerFilter(
                self.record.state_code, base.facility, base.start, base.end
            )
        else:
            scoped = detainers.DetainerFilter(
                None, base.facility, base.start, base.end, self.record.id
            )
        return await detainer_stat_rows(info, group_by, scoped)


@strawberry.type
class JurisdictionConnection:
    edges: list[Edge[Jurisdiction]]
    page_info: PageInfo
    total_count: int


@strawberry.type
class AgreementChange:
    kind: AgreementChangeKind
    agreement: Agreement


@strawberry.type
class AgreementChangeConnection:
    edges: list[Edge[AgreementChange]]
    page_info: PageInfo
