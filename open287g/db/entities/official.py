"""Official: the person in charge of an agency, from the officials CSV or an MOA's
signature block, with the evidence they rest on."""

from __future__ import annotations

import datetime as dt
import enum

from open287g.db.entities.declare import Column, Entity, Relation
from open287g.db.models.enums import MEANINGS


class OfficialSourceKind(enum.StrEnum):
    """Where an official comes from."""

    CSV = "CSV"
    DOCUMENT = "DOCUMENT"


MEANINGS.update(
    {
        OfficialSourceKind.CSV: "A roster of officials loaded as a file.",
        OfficialSourceKind.DOCUMENT: "A signature on an MOA document.",
    }
)


_IN_OFFICE = "({t}.term_end IS NULL OR {t}.term_end >= current_date)"
_EVIDENCE = "coalesce({t}.evidence_on, {t}.term_start)"
_OTHER_EVIDENCE = "coalesce(o2.evidence_on, o2.term_start)"
# Current: in office, and no other official of the agency in office has more recent
# evidence (undated evidence ranks last; ties go to the lower id).
IS_CURRENT = (
    f"({_IN_OFFICE} AND NOT EXISTS (SELECT 1 FROM officials o2"
    " WHERE o2.agency_id = {t}.agency_id AND o2.id <> {t}.id"
    " AND (o2.term_end IS NULL OR o2.term_end >= current_date)"
    f" AND ({_OTHER_EVIDENCE} > {_EVIDENCE}"
    f" OR ({_OTHER_EVIDENCE} IS NOT NULL AND {_EVIDENCE} IS NULL)"
    f" OR ({_OTHER_EVIDENCE} IS NOT DISTINCT FROM {_EVIDENCE} AND o2.id < {{t}}.id))))"
)

OFFICIAL_SOURCE = Entity(
    name="OfficialSource",
    table="officials {t}",
    node=False,
    description="The evidence an official rests on.",
    columns=(
        Column(
            "kind",
            "CASE WHEN {t}.document_id IS NULL THEN 'CSV' ELSE 'DOCUMENT' END",
            OfficialSourceKind,
            "A roster file (CSV) or a signed MOA (DOCUMENT).",
        ),
        Column(
            "url", "{t}.source_url", str | None, "Where the evidence is: a roster's page or an MOA."
        ),
        Column(
            "sha256",
            "(SELECT d.sha256 FROM documents d WHERE d.id = {t}.document_id)",
            str | None,
            "The MOA's sha256 (documents only).",
        ),
        Column("page", "{t}.source_page", int | None, "The MOA page of the signature."),
    ),
)

OFFICIAL = Entity(
    name="Official",
    description="A person in charge of an agency (a sheriff, a chief) for a term, with "
    "the evidence.",
    table="officials {t}",
    columns=(
        Column("name", "{t}.name", str, "The official's name."),
        Column("title", "{t}.title", str | None, "The office held: Sheriff, Chief of Police, …."),
        Column("term_start", "{t}.term_start", dt.date | None, "When the term began, if known."),
        Column(
            "term_end", "{t}.term_end", dt.date | None, "When the term ends or ended, if known."
        ),
        Column("source_url", "{t}.source_url", str | None, "Where the record says so."),
        Column(
            "evidence_on",
            "{t}.evidence_on",
            dt.date | None,
            "The date the source shows them in office (an MOA's signing date).",
        ),
        Column(
            "is_current",
            IS_CURRENT,
            bool,
            "The agency's most recent evidence (evidenceOn, else termStart).",
        ),
    ),
    relations=(
        Relation("source", "OfficialSource", "embed", nullable=False, description="The evidence."),
    ),
)
