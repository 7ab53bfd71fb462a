"""/v1/quality: the data-quality report (`db/queries/quality.py`, the same as GraphQL
`dataQuality`): "known problems in ICE's lists", citable. One document: counts by kind,
the loaders' repairs and rejections grouped by dataset and reason with examples, and
the cross-checks' flags (`kind=` narrows them), and where policy sources disagree."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from open287g.db.queries import changes, quality
from open287g.db.queries.freshness import Freshness, freshness
from open287g.db.queries.ids import to_global_id
from open287g.db.queries.quality import FLAG_DESCRIPTIONS, WORDS, FlagKind
from open287g.web.params import Param, parse_params
from open287g.web.responses import envelope, json_response, validators

KIND = Param(
    "kind",
    "string",
    "Only this cross-check: its flags and its count.",
    enum=tuple(FlagKind),
)
PARAMS = (KIND,)


def _said(part: str, name: str) -> Any:
    """A field described with the quality report's declared words (`quality.WORDS`)."""
    return Field(description=WORDS[part][name])


class QualityIssueExample(BaseModel):
    __doc__ = WORDS["example"][""]
    dataset_id: str = _said("example", "dataset_id")
    file_name: str = _said("example", "file_name")
    row_number: int | None = _said("example", "row_number")
    column: str | None = _said("example", "column")
    value: str | None = _said("example", "value")


class QualityIssueGroup(BaseModel):
    __doc__ = WORDS["group"][""]
    dataset: str = _said("group", "dataset")
    action: str = _said("group", "action")
    column: str | None = _said("group", "column")
    reason: str = _said("group", "reason")
    files: int = _said("group", "files")
    rows: int = _said("group", "rows")
    examples: list[QualityIssueExample] = _said("group", "examples")


class QualityFlagRow(BaseModel):
    __doc__ = WORDS["flag"][""]
    kind: str = _said("flag", "kind")
    agreement_id: str = Field(description=f"{WORDS['flag']['agreement']} Its id.")
    agency_name: str = _said("flag", "agency_name")
    state: str = _said("flag", "state")
    model: str = _said("flag", "model")
    detail: str = _said("flag", "detail")
    value: str | None = _said("flag", "value")
    dataset_id: str | None = Field(description=f"{WORDS['flag']['dataset']} Its id.")
    first_seen: dt.date | None = _said("flag", "first_seen")
    last_seen: dt.date | None = _said("flag", "last_seen")
    other_agreement_id: str | None = Field(
        description=f"{WORDS['flag']['other_agreement']} Its id."
    )
    method: str | None = _said("flag", "method")
    score: float | None = _said("flag", "score")


class QualityCount(BaseModel):
    __doc__ = WORDS["count"][""]
    kind: str = _said("count", "kind")
    description: str = _said("count", "description")
    count: int = _said("count", "count")


class QuarantinedFileRow(BaseModel):
    """A list `open287g sync` downloaded and quarantined instead of loading."""

    name: str = Field(description="The file's name as ICE served it.")
    url: str = Field(description="Where it was downloaded from.")
    sha256: str = Field(description="The archive keeps the file under this name.")
    kind: str | None = Field(description="PARTICIPATING or PENDING, as its link said.")
    published_on: dt.date | None = Field(
        description="Its publication date (from its file name, else Last-Modified)."
    )
    downloaded_at: dt.datetime = Field(description="When the sync downloaded it.")
    reason: str | None = Field(description="Why it was not loaded.")
    superseded: bool = Field(description="A later list of its kind has been loaded since.")


class PolicyDisagreementRow(BaseModel):
    __doc__ = WORDS["disagreement"][""]
    kind: str = _said("disagreement", "kind")
    jurisdiction_id: str = Field(description=f"{WORDS['disagreement']['jurisdiction']} Its id.")
    jurisdiction_name: str = _said("disagreement", "jurisdiction_name")
    state: str = _said("disagreement", "state")
    detail: str = _said("disagreement", "detail")
    sources: list[str] = _said("disagreement", "sources")


class QualityReportRow(BaseModel):
    __doc__ = WORDS["report"][""]
    counts: list[QualityCount] = _said("report", "counts")
    load_issues: list[QualityIssueGroup] = _said("report", "load_issues")
    flags: list[QualityFlagRow] = _said("report", "flags")
    quarantined_files: list[QuarantinedFileRow] = Field(
        description="Lists `open287g sync` downloaded and did not load (newest first): the "
        "last good data keeps being served."
    )
    policy_disagreements: list[PolicyDisagreementRow] = _said("report", "policy_disagreements")


def _gid(type_name: str, key: int | None) -> str | None:
    return None if key is None else to_global_id(type_name, key)


def _body(report: quality.QualityReport, fresh: Freshness) -> dict[str, Any]:
    return {
        "quarantined_files": [q.as_json() for q in fresh.quarantined],
        "counts": [
            {"kind": kind.value, "description": FLAG_DESCRIPTIONS[kind], "count": n}
            for kind, n in report.counts.items()
        ],
        "load_issues": [
            {
                "dataset": g.dataset,
                "action": g.action,
                "column": g.column,
                "reason": g.reason,
                "files": g.files,
                "rows": g.rows,
                "examples": [
                    {
                        "dataset_id": to_global_id("Dataset", e.dataset_id),
                        "file_name": e.file_name,
                        "row_number": e.row_number,
                        "column": e.column,
                        "value": e.value,
                    }
                    for e in g.examples
                ],
            }
            for g in report.issues
        ],
        "flags": [
            {
                "kind": f.kind.value,
                "agreement_id": to_global_id("Agreement", f.agreement_id),
                "agency_name": f.agency_name,
                "state": f.state,
                "model": f.model,
                "detail": f.detail,
                "value": f.value,
                "dataset_id": _gid("Dataset", f.dataset_id),
                "first_seen": f.first_seen,
                "last_seen": f.last_seen,
                "other_agreement_id": _gid("Agreement", f.other_agreement_id),
                "method": f.method,
                "score": f.score,
            }
            for f in report.flags
        ],
        "policy_disagreements": [
            {
                "kind": d.kind.value,
                "jurisdiction_id": to_global_id("Jurisdiction", d.jurisdiction_id),
                "jurisdiction_name": d.jurisdiction_name,
                "state": d.state,
                "detail": d.detail,
                "sources": list(d.sources),
            }
            for d in report.policy_disagreements
        ],
    }


async def quality_report(request: Request) -> Response:
    values = parse_params(request, PARAMS)
    kinds = frozenset({FlagKind(values["kind"])}) if values["kind"] else None
    async with request.app.state.engine.connect() as conn:
        version = await changes.data_version(conn)
        # A quarantine changes this report but not the data version: it is part of the
        # validators (and the response cache leaves this route alone, web/cache.py).
        fresh = await freshness(conn)
        if fresh.quarantined:
            newest = fresh.quarantined[0].downloaded_at
            modified = max(version.modified, newest) if version.modified else newest
            version = replace(version, modified=modified)
        headers, cached = validators(request, version, f"q{len(fresh.quarantined)}")
        if cached is not None:
            return cached
        report = await quality.quality_report(conn, kinds)
    return json_response(envelope(version, data=_body(report, fresh)), headers)
