"""Document: a 287(g) MOA as ICE published it, stored once per sha256, with what was read
from it (signatories, points of contact, every extracted value with its evidence) and the
agreements whose MOA link names it. Its page text is a relation computed from its
arguments (`page_text`): `pageText` is never part of a list unless asked for."""

from __future__ import annotations

import datetime as dt

from open287g.db.entities.declare import Column, Entity, Relation, RestColumn, gid_sql
from open287g.db.models.enums import ProgramModelCode
from open287g.db.queries.documents import DOCUMENTS


def _field_value(field_sql: str) -> str:
    """The first published value (never a candidate) of a document field (`field_sql`:
    the field's name as SQL) of the signatory row `{t}`."""
    return (
        "(SELECT f.value FROM document_fields f WHERE f.document_id = {t}.document_id"
        f" AND f.field = {field_sql} AND NOT f.candidate ORDER BY f.ordinal LIMIT 1)"
    )


# The page of the first part (name, title, agency, signed_on) whose first value was read.
_SIGNATURE_PAGE = (
    "(SELECT x.page FROM (SELECT DISTINCT ON (f.field) f.field, f.value, f.page"
    " FROM document_fields f WHERE f.document_id = {t}.document_id AND NOT f.candidate"
    " AND f.field IN ({t}.role || '.name', {t}.role || '.title', {t}.role || '.agency',"
    " {t}.role || '.signed_on') ORDER BY f.field, f.ordinal) x WHERE x.value IS NOT NULL"
    " ORDER BY array_position(ARRAY['name', 'title', 'agency', 'signed_on'],"
    " split_part(x.field, '.', 2)) LIMIT 1)"
)

SIGNATORY = Entity(
    name="Signatory",
    description="Who signed the MOA for one side, as its signature block reads.",
    # Each document's two signature blocks: `role` names the fields they were read into.
    table="(SELECT d.id AS document_id, r.role FROM documents d"
    " CROSS JOIN (VALUES ('agency_signatory'), ('ice_signatory')) r(role)) {t}",
    key="{t}.document_id || ':' || {t}.role",
    key_type=str,
    node=False,
    columns=(
        Column(
            "name",
            _field_value("{t}.role || '.name'"),
            str | None,
            "The signatory's name as the MOA prints it.",
        ),
        Column(
            "title",
            _field_value("{t}.role || '.title'"),
            str | None,
            "The signatory's title as the MOA prints it.",
        ),
        Column(
            "agency",
            _field_value("{t}.role || '.agency'"),
            str | None,
            "The agency as written on the MOA.",
        ),
        Column(
            "signed_on",
            "CAST(" + _field_value("{t}.role || '.signed_on'") + " AS date)",
            dt.date | None,
            "The date beside the signature, once read.",
        ),
        Column("page", _SIGNATURE_PAGE, int | None, "The page of the signature block."),
    ),
)


def _signatory(role: str) -> Relation:
    return Relation(
        f"{role}_signatory",
        "Signatory",
        "one",
        f"(SELECT {{t}}.id AS document_id, CAST('{role}_signatory' AS text) AS role) {{c}}",
        nullable=False,
        description=f"Who signed for the {'agency' if role == 'agency' else 'ICE'} side.",
    )


EXTRACTED_VALUE = Entity(
    name="ExtractedValue",
    table="document_fields {t}",
    key="{t}.document_id || ':' || {t}.field || ':' || {t}.ordinal",
    key_type=str,
    node=False,
    description="A value read from the document, with its evidence.",
    columns=(
        Column(
            "field",
            "{t}.field",
            str,
            "Which value: signedOn, programModel, agency.name, ice.title, ….",
        ),
        Column(
            "value",
            "{t}.value",
            str | None,
            "The value as read (null when the document does not show it).",
        ),
        Column("page", "{t}.page", int | None, "The page the value was read from."),
        Column(
            "method", "{t}.method", str | None, "How it was read: text layer, OCR, layout rule."
        ),
        Column(
            "confidence",
            "{t}.confidence",
            float | None,
            "How sure the reading is (0–1); below the publication bound it is a candidate.",
        ),
        Column(
            "reason",
            "{t}.reason",
            str | None,
            "Why the value is null, or why it is only a candidate.",
        ),
        Column(
            "candidate",
            "{t}.candidate",
            bool,
            "Confidence below the publication threshold: a candidate shown for review, never "
            "published as a fact (signatory, signing date, official).",
        ),
        Column(
            "box",
            "to_json({t}.box)",
            list[float] | None,
            "Where on its page the value was read: x0, y0, x1, y1 in PDF points from the top left.",
        ),
    ),
)

DOCUMENT_MATCH = Entity(
    name="DocumentMatch",
    table=f"{DOCUMENTS} {{t}}",
    node=False,
    description="Where a search matched: the best page and a highlighted snippet.",
    columns=(
        Column("page", "{t}.match_page", int, "The page that matched best."),
        Column("rank", "{t}.match_rank", float, "The search rank of that page (higher is better)."),
        Column("snippet", "{t}.match_snippet", str, "Matches between « and »."),
    ),
)

DOCUMENT = Entity(
    name="Document",
    table=f"{DOCUMENTS} {{t}}",
    description="A 287(g) MOA as ICE published it, stored once per sha256.",
    columns=(
        Column(
            "url", "{t}.url", str | None, "Where ICE published it (the link an agreement names)."
        ),
        Column("sha256", "{t}.sha256", str, "The SHA-256 of the file's bytes: its identity."),
        Column("bytes", "{t}.bytes", int, "The file's size in bytes."),
        Column("pages", "{t}.page_count", int | None, "Number of pages."),
        Column("file_name", "{t}.file_name", str, "The PDF's file name."),
        Column("fetched_at", "{t}.fetched_at", dt.datetime, "When the file was fetched."),
        Column("status", "{t}.status", str, "read, partial or unreadable"),
        Column("reason", "{t}.reason", str | None, "Why it is partial or unreadable, when it is."),
        Column("text_method", "{t}.text_method", str, "text-layer, ocr, mixed or none"),
        Column("signed_on", "{t}.signed_on", dt.date | None, "Signing date read from the MOA."),
        Column(
            "program_model",
            "{t}.program_model",
            ProgramModelCode | None,
            "The program model the MOA states, once read.",
        ),
        Column(
            "points_of_contact",
            "to_json(ARRAY(SELECT f.value FROM document_fields f WHERE f.document_id = {t}.id"
            " AND f.field = 'point_of_contact' AND f.value <> '' AND NOT f.candidate"
            " ORDER BY f.ordinal))",
            list[str],
            "The people the MOA names as points of contact (the agency's and ICE's).",
        ),
        Column(
            "agreement_ids",
            f"to_json(ARRAY(SELECT {gid_sql('Agreement', 'l.agreement_id')}"
            " FROM document_agreements l WHERE l.document_id = {t}.id ORDER BY l.agreement_id))",
            list[str],
            "The agreements whose MOA link names this document (GraphQL: `agreements`).",
            graphql=False,
        ),
    ),
    relations=(
        Relation(
            "match",
            "DocumentMatch",
            "embed",
            "{t}.match_page IS NOT NULL",
            description="Set by `documents(search:)`.",
        ),
        _signatory("agency"),
        _signatory("ice"),
        Relation(
            "evidence",
            "ExtractedValue",
            "list",
            "document_fields {c} WHERE {c}.document_id = {t}.id",
            # Python's sort of the field names (code points), then each field's order.
            order='{c}.field COLLATE "C", {c}.ordinal',
            nullable=False,
            description="Every extracted value with page, method and confidence.",
        ),
        Relation(
            "agreements",
            "Agreement",
            "list",
            "agreements {c} WHERE {c}.id IN"
            " (SELECT l.agreement_id FROM document_agreements l WHERE l.document_id = {t}.id)",
            order="{c}.id",
            nullable=False,
            description="The agreements whose MOA link names this document.",
        ),
        # Computed rows (`page_text`): its pages, `source` being the document's id.
        Relation(
            "page_text",
            "PageText",
            "list",
            "{t}.id",
            nullable=False,
            description="The text of the document's pages (all, or those in `pages`); costs "
            "as many nodes as a document has pages.",
        ),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("file_name"),
        RestColumn("url", description="Where ICE published it."),
        RestColumn("sha256"),
        RestColumn("bytes"),
        RestColumn("pages"),
        RestColumn("fetched_at"),
        RestColumn("status"),
        RestColumn("reason"),
        RestColumn("text_method"),
        RestColumn("signed_on"),
        RestColumn("program_model"),
        RestColumn("agency_signatory_name", "agency_signatory.name"),
        RestColumn("agency_signatory_title", "agency_signatory.title"),
        RestColumn("agency_signatory_agency", "agency_signatory.agency"),
        RestColumn("agency_signatory_signed_on", "agency_signatory.signed_on"),
        RestColumn("ice_signatory_name", "ice_signatory.name"),
        RestColumn("ice_signatory_title", "ice_signatory.title"),
        RestColumn("ice_signatory_signed_on", "ice_signatory.signed_on"),
        RestColumn("points_of_contact"),
        RestColumn("agreement_ids"),
        RestColumn("match_page", "match.page", "With `q`: the best-matching page."),
        RestColumn("snippet", "match.snippet", "With `q`: that page's matches between « and »."),
    ),
)
