"""/v1/quality: the data-quality report (`db/queries/quality.py`, the same as GraphQL
`dataQuality`): "known problems in ICE's lists", citable. One document: counts by kind,
the loaders' repairs and rejections grouped by dataset and reason with examples, and
the cross-checks' flags (`kind=` narrows them), and where policy sources disagree."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field, create_model
from starlette.requests import Request
from starlette.responses import Response

from open287g.db.queries import changes, quality
from open287g.db.queries.freshness import Freshness, freshness
from open287g.db.queries.ids import to_global_id
from open287g.db.queries.policy_quality import PolicyDisagreement
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


# The id fields of the report's parts, and the type of the record each names: REST shows
# them as that type's id (`to_global_id`).
_IDS = {
    "agreement_id": "Agreement",
    "other_agreement_id": "Agreement",
    "dataset_id": "Dataset",
    "jurisdiction_id": "Jurisdiction",
}


def _words(part: str, name: str) -> str:
    """A field's description, from the report's declared words (`quality.WORDS`); an id
    field is described as the record it names ("The agreement flagged. Its id.")."""
    words = WORDS[part]
    if name in words or name not in _IDS:
        return words[name]
    return f"{words[name.removesuffix('_id')]} Its id."


def _rest_type(annotation: Any, nested: dict[type, type[BaseModel]]) -> Any:
    """The REST type of a part's field: an id is its text, an enum its name, a tuple a
    list, a nested part its model."""
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (list, tuple):
        return list[_rest_type(args[0], nested)]  # type: ignore[misc]
    if origin in (types.UnionType, typing.Union):
        return _rest_type(args[0], nested) | None
    return nested.get(annotation, annotation)


def _model(
    name: str, part: str, record: type, nested: dict[type, type[BaseModel]] | None = None
) -> type[BaseModel]:
    """The REST model of one part of the report: the query layer's record (`record`, a
    dataclass) field by field, in its order, described by `quality.WORDS[part]`."""
    hints = typing.get_type_hints(record)
    found: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        kind = hints[f.name]
        if f.name in _IDS:
            kind = str | None if type(None) in typing.get_args(kind) else str
        found[f.name] = (_rest_type(kind, nested or {}), Field(description=_words(part, f.name)))
    model: type[BaseModel] = create_model(name, __doc__=WORDS[part][""], **found)
    return model


def _rest(value: Any) -> Any:
    """A part's record as REST shows it (`_model`): ids as global ids, enums as their
    names, tuples and lists as lists, nested parts likewise."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _id(f.name, getattr(value, f.name))
            if f.name in _IDS
            else _rest(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_rest(v) for v in value]
    return value


def _id(name: str, key: int | None) -> str | None:
    return None if key is None else to_global_id(_IDS[name], key)


QualityIssueExample = _model("QualityIssueExample", "example", quality.IssueExample)
QualityIssueGroup = _model(
    "QualityIssueGroup", "group", quality.IssueGroup, {quality.IssueExample: QualityIssueExample}
)
QualityFlagRow = _model("QualityFlagRow", "flag", quality.Flag)
PolicyDisagreementRow = _model("PolicyDisagreementRow", "disagreement", PolicyDisagreement)


class QualityCount(BaseModel):
    __doc__ = WORDS["count"][""]
    kind: str = Field(description=WORDS["count"]["kind"])
    description: str = Field(description=WORDS["count"]["description"])
    count: int = Field(description=WORDS["count"]["count"])


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


class QualityReportRow(BaseModel):
    __doc__ = WORDS["report"][""]
    counts: list[QualityCount] = Field(description=WORDS["report"]["counts"])
    load_issues: list[QualityIssueGroup] = Field(  # type: ignore[valid-type]
        description=WORDS["report"]["load_issues"]
    )
    flags: list[QualityFlagRow] = Field(  # type: ignore[valid-type]
        description=WORDS["report"]["flags"]
    )
    quarantined_files: list[QuarantinedFileRow] = Field(
        description="Lists `open287g sync` downloaded and did not load (newest first): the "
        "last good data keeps being served."
    )
    policy_disagreements: list[PolicyDisagreementRow] = Field(  # type: ignore[valid-type]
        description=WORDS["report"]["policy_disagreements"]
    )


def _body(report: quality.QualityReport, fresh: Freshness) -> dict[str, Any]:
    return {
        "quarantined_files": [q.as_json() for q in fresh.quarantined],
        "counts": [
            {"kind": kind.value, "description": FLAG_DESCRIPTIONS[kind], "count": n}
            for kind, n in report.counts.items()
        ],
        "load_issues": _rest(report.issues),
        "flags": _rest(report.flags),
        "policy_disagreements": _rest(report.policy_disagreements),
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
