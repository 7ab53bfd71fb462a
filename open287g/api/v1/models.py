"""Response models of the rows that are not a declared entity's REST row (those are
generated: `open287g.api.v1.resource.row_model`), the agreement item, stats, changes and
problems. The OpenAPI document is generated from these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, create_model

from open287g.api.v1.resource import row_model
from open287g.db.entities.agreement import AGREEMENT
from open287g.db.entities.declare import Entity
from open287g.db.entities.document import DOCUMENT
from open287g.db.entities.statistics import (
    AGREEMENT_STAT,
    AGREEMENT_STAT_KEY,
    DETAINER_STAT,
    DETAINER_STAT_KEY,
)

# The documents' generated row model (a value, not a type, to mypy).
_DOCUMENT_ROW: Any = row_model(DOCUMENT)

AgreementItem = create_model(
    "AgreementItem",
    __base__=row_model(AGREEMENT),
    __doc__="/v1/agreements/{id}: the row, and the MOA document it links.",
    document=(
        _DOCUMENT_ROW | None,
        Field(
            description="The MOA its moaUrl names, as /v1/documents/{id} gives it (URL, "
            "sha256, pages, signatories, points of contact); null until that document is "
            "loaded."
        ),
    ),
)


def _key(entity: Entity, name: str) -> Any:
    return Field(default=None, description=entity.words(name))


def _stat_model(name: str, key: Entity, stat: Entity) -> type[BaseModel]:
    """A statistics row of REST: the key's columns (null when not grouped by), then the
    statistic's (counts, and how they were published), typed and described by their
    declarations (`db/entities/statistics.py`)."""
    fields: dict[str, Any] = {
        **{c.name: (c.type, _key(key, c.name)) for c in key.columns},
        **{c.name: (c.type, Field(description=c.description)) for c in stat.columns if c.rest},
    }
    model: type[BaseModel] = create_model(name, __doc__=stat.description, **fields)
    return model


AgreementStatRow = _stat_model("AgreementStatRow", AGREEMENT_STAT_KEY, AGREEMENT_STAT)
DetainerStatRow = _stat_model("DetainerStatRow", DETAINER_STAT_KEY, DETAINER_STAT)


class ChangeRow(BaseModel):
    """One entry of the change feed (/v1/changes): a record as it now is, or its tombstone."""

    seq: int = Field(description="The change's number: pass the last as `since`.")
    entity: str = Field(description="What kind of record changed: agreement, agency, ….")
    id: str = Field(description="The record's id.")
    op: str = Field(description="UPSERT (record is the current one) or DELETE (a tombstone).")
    changed_at: dt.datetime = Field(description="When the load made the change.")
    record: dict[str, object] | None = Field(
        description="The record as it now is (null for a DELETE)."
    )


class Problem(BaseModel):
    """An RFC 9457 problem document: what went wrong, in words a person can act on."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="The HTTP status's reason phrase.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What was wrong with this request, and how to fix it.")
    instance: str | None = Field(default=None, description="The request path, when given.")
