"""`Query.dataQuality`: the data-quality report (`db/queries/quality.py`, shared with
REST `/v1/quality`): every repair and rejection of the loaders, grouped, with examples,
and the cross-checks' flags, each pointing at its agreement and the file that shows it.

Each part is read only when asked for; the cost limiter charges `flags` and
`loadIssues` as the unpaginated lists they are (`limits.SCAN_COSTS`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from open287g.db.models.enums import ProgramModelCode
from open287g.db.queries import policy_quality, quality
from open287g.db.queries.ids import to_global_id
from open287g.db.queries.policy_quality import DisagreementKind
from open287g.db.queries.quality import (
    FLAG_DESCRIPTIONS,
    WORDS,
    FlagKind,
    IssueExample,
    IssueGroup,
)
from open287g.graphql.context import Info
from open287g.graphql.entity_types import load_node

if TYPE_CHECKING:
    from open287g.graphql.types import Agreement, Dataset, Jurisdiction

QualityFlagKind = strawberry.enum(
    FlagKind, name="QualityFlagKind", description="What a cross-check found."
)


async def _dataset(info: Info, dataset_id: int | None) -> Dataset | None:
    if dataset_id is None:
        return None
    found: Dataset | None = await load_node(info, "Dataset", dataset_id)
    return found


async def _agreement(info: Info, agreement_id: int | None) -> Agreement | None:
    if agreement_id is None:
        return None
    found: Agreement | None = await load_node(info, "Agreement", agreement_id)
    return found


@strawberry.type(description=WORDS["example"][""])
class LoadIssueExample:
    example: strawberry.Private[IssueExample]
    file_name: str = strawberry.field(description=WORDS["example"]["file_name"])
    row_number: int | None = strawberry.field(description=WORDS["example"]["row_number"])
    column: str | None = strawberry.field(description=WORDS["example"]["column"])
    value: str | None = strawberry.field(description=WORDS["example"]["value"])

    @strawberry.field(description=WORDS["example"]["dataset"])
    async def dataset(
        self, info: Info
    ) -> Annotated[Dataset, strawberry.lazy("open287g.graphql.types")] | None:
        return await _dataset(info, self.example.dataset_id)


@strawberry.type(description=WORDS["group"][""])
class LoadIssueGroup:
    dataset: str = strawberry.field(description=WORDS["group"]["dataset"])
    action: str = strawberry.field(description=WORDS["group"]["action"])
    column: str | None = strawberry.field(description=WORDS["group"]["column"])
    reason: str = strawberry.field(description=WORDS["group"]["reason"])
    files: int = strawberry.field(description=WORDS["group"]["files"])
    rows: int = strawberry.field(description=WORDS["group"]["rows"])
    examples: list[LoadIssueExample] = strawberry.field(description=WORDS["group"]["examples"])

    @classmethod
    def of(cls, group: IssueGroup) -> LoadIssueGroup:
        return cls(
            dataset=group.dataset,
            action=group.action,
            column=group.column,
            reason=group.reason,
            files=group.files,
            rows=group.rows,
            examples=[
                LoadIssueExample(
                    example=e,
                    file_name=e.file_name,
                    row_number=e.row_number,
                    column=e.column,
                    value=e.value,
                )
                for e in group.examples
            ],
        )


@strawberry.type(description=WORDS["flag"][""])
class QualityFlag:
    flag: strawberry.Private[quality.Flag]
    kind: QualityFlagKind = strawberry.field(description=WORDS["flag"]["kind"])  # type: ignore[valid-type]
    agency_name: str = strawberry.field(description=WORDS["flag"]["agency_name"])
    state: str = strawberry.field(description=WORDS["flag"]["state"])
    model: ProgramModelCode = strawberry.field(description=WORDS["flag"]["model"])
    detail: str = strawberry.field(description=WORDS["flag"]["detail"])
    value: str | None = strawberry.field(description=WORDS["flag"]["value"])
    dataset_id: strawberry.ID | None = strawberry.field(description=WORDS["flag"]["dataset"])
    first_seen: dt.date | None = strawberry.field(description=WORDS["flag"]["first_seen"])
    last_seen: dt.date | None = strawberry.field(description=WORDS["flag"]["last_seen"])
    method: str | None = strawberry.field(description=WORDS["flag"]["method"])
    score: float | None = strawberry.field(description=WORDS["flag"]["score"])

    @classmethod
    def of(cls, flag: quality.Flag) -> QualityFlag:
        return cls(
            flag=flag,
            kind=flag.kind,
            agency_name=flag.agency_name,
            state=flag.state,
            model=ProgramModelCode(flag.model),
            detail=flag.detail,
            value=flag.value,
            dataset_id=(
                strawberry.ID(to_global_id("Dataset", flag.dataset_id))
                if flag.dataset_id is not None
                else None
            ),
            first_seen=flag.first_seen,
            last_seen=flag.last_seen,
            method=flag.method,
            score=flag.score,
        )

    @strawberry.field(description=WORDS["flag"]["agreement"])
    async def agreement(
        self, info: Info
    ) -> Annotated[Agreement, strawberry.lazy("open287g.graphql.types")] | None:
        return await _agreement(info, self.flag.agreement_id)

    @strawberry.field(description=WORDS["flag"]["other_agreement"])
    async def other_agreement(
        self, info: Info
    ) -> Annotated[Agreement, strawberry.lazy("open287g.graphql.types")] | None:
        return await _agreement(info, self.flag.other_agreement_id)

    @strawberry.field(description=WORDS["flag"]["dataset"])
    async def dataset(
        self, info: Info
    ) -> Annotated[Dataset, strawberry.lazy("open287g.graphql.types")] | None:
        return await _dataset(info, self.flag.dataset_id)


PolicyDisagreementKind = strawberry.enum(
    DisagreementKind, name="PolicyDisagreementKind", description="How policy sources disagree."
)


@strawberry.type(description=WORDS["disagreement"][""])
class PolicyDisagreement:
    found: strawberry.Private[policy_quality.PolicyDisagreement]
    kind: PolicyDisagreementKind = strawberry.field(description=WORDS["disagreement"]["kind"])  # type: ignore[valid-type]
    jurisdiction_name: str = strawberry.field(
        description=WORDS["disagreement"]["jurisdiction_name"]
    )
    state: str = strawberry.field(description=WORDS["disagreement"]["state"])
    detail: str = strawberry.field(description=WORDS["disagreement"]["detail"])
    sources: list[str] = strawberry.field(description=WORDS["disagreement"]["sources"])

    @strawberry.field(description=WORDS["disagreement"]["jurisdiction"])
    async def jurisdiction(
        self, info: Info
    ) -> Annotated[Jurisdiction, strawberry.lazy("open287g.graphql.types")] | None:
        found: Jurisdiction | None = await load_node(
            info, "Jurisdiction", self.found.jurisdiction_id
        )
        return found


@strawberry.type(description=WORDS["count"][""])
class QualityFlagCount:
    kind: QualityFlagKind = strawberry.field(description=WORDS["count"]["kind"])  # type: ignore[valid-type]
    description: str = strawberry.field(description=WORDS["count"]["description"])
    count: int = strawberry.field(description=WORDS["count"]["count"])


def _kinds(kinds: list[FlagKind] | None) -> frozenset[FlagKind] | None:
    return frozenset(kinds) if kinds is not None else None


@strawberry.type(description=WORDS["report"][""])
class DataQuality:
    @strawberry.field(description=WORDS["report"]["load_issues"])
    async def load_issues(self, info: Info) -> list[LoadIssueGroup]:
        async with info.context.engine.connect() as conn:
            return [LoadIssueGroup.of(g) for g in await quality.load_issue_groups(conn)]

    @strawberry.field(description=WORDS["report"]["flags"])
    async def flags(
        self,
        info: Info,
        kinds: Annotated[
            list[QualityFlagKind] | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only these cross-checks (all when absent)."),
        ] = None,
    ) -> list[QualityFlag]:
        async with info.context.engine.connect() as conn:
            found = await quality.quality_flags(conn, _kinds(kinds))
        return [QualityFlag.of(f) for f in found]

    @strawberry.field(description=WORDS["report"]["policy_disagreements"])
    async def policy_disagreements(self, info: Info) -> list[PolicyDisagreement]:
        async with info.context.engine.connect() as conn:
            found = await policy_quality.policy_disagreements(conn)
        return [
            PolicyDisagreement(
                found=d, kind=d.kind, jurisdiction_name=d.jurisdiction_name, state=d.state,
                detail=d.detail, sources=list(d.sources),
            )
            for d in found
        ]  # fmt: skip

    @strawberry.field(description=WORDS["report"]["counts"])
    async def flag_counts(self, info: Info) -> list[QualityFlagCount]:
        async with info.context.engine.connect() as conn:
            found = await quality.quality_flags(conn)
        counts = dict.fromkeys(FlagKind, 0)
        for flag in found:
            counts[flag.kind] += 1
        return [
            QualityFlagCount(kind=kind, description=FLAG_DESCRIPTIONS[kind], count=n)
            for kind, n in counts.items()
        ]
