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
from open287g.db.queries.quality import FLAG_DESCRIPTIONS, FlagKind, IssueExample, IssueGroup
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


@strawberry.type(description="One row a loader repaired or rejected.")
class LoadIssueExample:
    example: strawberry.Private[IssueExample]
    file_name: str = strawberry.field(description="The source file's name.")
    row_number: int | None = strawberry.field(
        description="The row in that file (1 = first row), if any."
    )
    column: str | None = strawberry.field(description="The column in question, if one.")
    value: str | None = strawberry.field(description="The value as the file wrote it.")

    @strawberry.field(description="The source file (name, URL, sha256).")
    async def dataset(
        self, info: Info
    ) -> Annotated[Dataset, strawberry.lazy("open287g.graphql.types")] | None:
        return await _dataset(info, self.example.dataset_id)


@strawberry.type(description="Repairs or rejections of one kind, in one dataset.")
class LoadIssueGroup:
    dataset: str = strawberry.field(description="ice-287g, policies, officials, detainers, …")
    action: str = strawberry.field(description="REPAIRED or REJECTED")
    column: str | None = strawberry.field(description="The column in question, if one.")
    reason: str = strawberry.field(description="What was wrong, and what was done.")
    files: int = strawberry.field(description="Source files with such rows.")
    rows: int = strawberry.field(description="Rows of this kind, in all those files.")
    examples: list[LoadIssueExample] = strawberry.field(description="The first few.")

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


@strawberry.type(description="What a cross-check found about one agreement (data unchanged).")
class QualityFlag:
    flag: strawberry.Private[quality.Flag]
    kind: QualityFlagKind = strawberry.field(description="Which cross-check.")  # type: ignore[valid-type]
    agency_name: str = strawberry.field(description="As the list wrote it.")
    state: str = strawberry.field(description="The agreement's state (USPS code).")
    model: ProgramModelCode = strawberry.field(description="The agreement's program model.")
    detail: str = strawberry.field(description="What the check found, in words.")
    value: str | None = strawberry.field(description="The URL, date or evidence in question.")
    dataset_id: strawberry.ID | None = strawberry.field(
        description="The latest source file showing it."
    )
    first_seen: dt.date | None = strawberry.field(description="The first list showing the problem.")
    last_seen: dt.date | None = strawberry.field(description="The last list showing the problem.")
    method: str | None = strawberry.field(description="A rename link's method.")
    score: float | None = strawberry.field(description="A rename link's name similarity.")

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

    @strawberry.field(description="The agreement flagged.")
    async def agreement(
        self, info: Info
    ) -> Annotated[Agreement, strawberry.lazy("open287g.graphql.types")] | None:
        return await _agreement(info, self.flag.agreement_id)

    @strawberry.field(description="A rename link's successor.")
    async def other_agreement(
        self, info: Info
    ) -> Annotated[Agreement, strawberry.lazy("open287g.graphql.types")] | None:
        return await _agreement(info, self.flag.other_agreement_id)

    @strawberry.field(description="The latest source file showing it.")
    async def dataset(
        self, info: Info
    ) -> Annotated[Dataset, strawberry.lazy("open287g.graphql.types")] | None:
        return await _dataset(info, self.flag.dataset_id)


PolicyDisagreementKind = strawberry.enum(
    DisagreementKind, name="PolicyDisagreementKind", description="How policy sources disagree."
)


@strawberry.type(description="Where policy sources disagree about one jurisdiction.")
class PolicyDisagreement:
    found: strawberry.Private[policy_quality.PolicyDisagreement]
    kind: PolicyDisagreementKind = strawberry.field(description="How they disagree.")  # type: ignore[valid-type]
    jurisdiction_name: str = strawberry.field(description="The jurisdiction's name.")
    state: str = strawberry.field(description="Its state (USPS code).")
    detail: str = strawberry.field(description="The disagreement, in words.")
    sources: list[str] = strawberry.field(description="The source titles involved.")

    @strawberry.field(description="The jurisdiction they disagree about.")
    async def jurisdiction(
        self, info: Info
    ) -> Annotated[Jurisdiction, strawberry.lazy("open287g.graphql.types")] | None:
        found: Jurisdiction | None = await load_node(
            info, "Jurisdiction", self.found.jurisdiction_id
        )
        return found


@strawberry.type(description="How many flags one cross-check raised.")
class QualityFlagCount:
    kind: QualityFlagKind = strawberry.field(description="Which cross-check.")  # type: ignore[valid-type]
    description: str = strawberry.field(description="What the cross-check looks for.")
    count: int = strawberry.field(description="Its flags.")


def _kinds(kinds: list[FlagKind] | None) -> frozenset[FlagKind] | None:
    return frozenset(kinds) if kinds is not None else None


@strawberry.type(
    description="Known problems in ICE's lists: the loaders' repairs and rejections, and "
    'cross-checks that flag without changing the data (docs/using-the-api.md, "Data quality").'
)
class DataQuality:
    @strawberry.field(description="Repairs and rejections, by dataset and reason.")
    async def load_issues(self, info: Info) -> list[LoadIssueGroup]:
        async with info.context.engine.connect() as conn:
            return [LoadIssueGroup.of(g) for g in await quality.load_issue_groups(conn)]

    @strawberry.field(description="The flags of every cross-check, or of those named.")
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

    @strawberry.field(
        description="Where policy sources disagree (docs/data.md, 'Loading jurisdiction policies')."
    )
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

    @strawberry.field(description="How many flags each cross-check raised.")
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
